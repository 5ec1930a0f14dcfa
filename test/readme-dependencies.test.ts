import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// The README's Security section lists the production dependencies at their installed versions (npm audit cannot
// reach an advisory database from the build machines). This keeps that list equal to package.json's dependencies
// at the versions package-lock.json pins, so it cannot go stale.

const START = '<!-- dependencies: generated from package.json + package-lock.json'
const END = '<!-- /dependencies -->'

interface LockEntry {
  version?: string
  license?: string
}

function expectedTable(): string[] {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
    packages: Record<string, LockEntry>
  }
  const rows = Object.keys(pkg.dependencies)
    .sort()
    .map((name) => {
      const entry = lock.packages[`node_modules/${name}`]
      if (!entry?.version)
        throw new Error(`${name} is in package.json but not installed by package-lock.json`)
      return `| \`${name}\` | ${entry.version} | ${entry.license ?? 'unknown'} |`
    })
  return ['| package | version | license |', '|---|---|---|', ...rows]
}

/** Cells trimmed, so the formatter's column padding does not matter. */
function normalise(line: string): string {
  const cells = line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim())
  return cells.every((c) => /^-+$/.test(c)) ? cells.map(() => '---').join('|') : cells.join('|')
}

function readmeTable(): string[] {
  const readme = readFileSync('README.md', 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END, start)
  if (start < 0 || end < 0)
    throw new Error(`README.md lacks the dependency table between "${START}" and "${END}"`)
  return readme
    .slice(readme.indexOf('\n', start) + 1, end)
    .split('\n')
    .filter((line) => line.trim() !== '')
}

describe("the README's dependency list", () => {
  it('names every production dependency at the version package-lock.json installs', () => {
    const expected = expectedTable()
    expect(
      readmeTable().map(normalise),
      `README.md's dependency table is stale; replace it with:\n${expected.join('\n')}\n`,
    ).toEqual(expected.map(normalise))
  })
})
