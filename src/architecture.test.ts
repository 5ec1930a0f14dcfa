import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

// The layering rules of the style guide, checked on the sources rather than trusted: the domain imports nothing
// outside itself, and an adapter never imports another adapter (store-args holds the stores' shared argument checks).

const SRC = resolve(import.meta.dirname)
const SHARED_ADAPTER_HELPERS = new Set(['store-args'])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** Every relative import of a file, resolved to a path under src. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(
    (m) => m[1] as string,
  )
  return specifiers.map((s) => relative(SRC, resolve(dirname(file), s)))
}

describe('layering', () => {
  it('keeps the domain pure: it imports only the domain', () => {
    const offending = sourceFiles(join(SRC, 'domain')).flatMap((file) =>
      relativeImports(file)
        .filter((target) => !target.startsWith('domain/'))
        .map((target) => `${relative(SRC, file)} -> ${target}`),
    )
    expect(offending).toEqual([])
  })

  it('keeps adapters apart: no adapter imports another', () => {
    const offending = sourceFiles(join(SRC, 'adapters')).flatMap((file) => {
      const own = relative(SRC, file).split('/').slice(0, 2).join('/')
      return relativeImports(file)
        .filter((target) => target.startsWith('adapters/'))
        .filter((target) => {
          const folder = target.split('/').slice(0, 2).join('/')
          return folder !== own && !SHARED_ADAPTER_HELPERS.has(target.split('/')[1] as string)
        })
        .map((target) => `${relative(SRC, file)} -> ${target}`)
    })
    expect(offending).toEqual([])
  })
})
