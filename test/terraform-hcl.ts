import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from '@cdktf/hcl2json'

// Reads a Terraform module's .tf files into one object through @cdktf/hcl2json (HCL's own parser, compiled to
// WebAssembly), with accessors that fail with the missing address rather than returning undefined.

export type Block = Record<string, unknown>

export interface Module {
  dir: string
  files: string[]
  resources: Record<string, Record<string, Block>>
  data: Record<string, Record<string, Block>>
  variables: Record<string, Block>
  outputs: Record<string, Block>
  locals: Block
  modules: Record<string, Block>
  providers: Record<string, Block>
  terraform: Block[]
}

/** The one block of a labelled object: hcl2json gives every labelled block as a one-element list. */
function only(list: unknown, address: string): Block {
  if (!Array.isArray(list) || list.length !== 1) throw new Error(`${address}: expected one block`)
  return list[0] as Block
}

export async function loadModule(dir: string): Promise<Module> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort()
  const module: Module = {
    dir,
    files,
    resources: {},
    data: {},
    variables: {},
    outputs: {},
    locals: {},
    modules: {},
    providers: {},
    terraform: [],
  }
  for (const file of files) {
    const json = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Record<string, unknown>
    for (const [kind, target] of [
      ['resource', module.resources],
      ['data', module.data],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Block>)) {
        target[type] ??= {}
        for (const [name, list] of Object.entries(byName)) {
          if (target[type][name]) throw new Error(`${kind} ${type}.${name} is declared twice`)
          target[type][name] = only(list, `${file}: ${type}.${name}`)
        }
      }
    }
    for (const [kind, target] of [
      ['variable', module.variables],
      ['output', module.outputs],
      ['module', module.modules],
      ['provider', module.providers],
    ] as const) {
      for (const [name, list] of Object.entries((json[kind] ?? {}) as Record<string, unknown>)) {
        target[name] = only(list, `${file}: ${kind} ${name}`)
      }
    }
    for (const locals of (json.locals ?? []) as Block[]) Object.assign(module.locals, locals)
    module.terraform.push(...((json.terraform ?? []) as Block[]))
  }
  return module
}

export function resource(m: Module, type: string, name: string): Block {
  const block = m.resources[type]?.[name]
  if (!block) throw new Error(`resource ${type}.${name} is missing from ${m.dir}`)
  return block
}

export function dataSource(m: Module, type: string, name: string): Block {
  const block = m.data[type]?.[name]
  if (!block) throw new Error(`data ${type}.${name} is missing from ${m.dir}`)
  return block
}

export function variable(m: Module, name: string): Block {
  const block = m.variables[name]
  if (!block) throw new Error(`variable ${name} is missing from ${m.dir}`)
  return block
}

export function local(m: Module, name: string): unknown {
  if (!(name in m.locals)) throw new Error(`local ${name} is missing from ${m.dir}`)
  return m.locals[name]
}

/** A nested block that occurs once (hcl2json lists nested blocks too). */
export function nested(block: Block, name: string): Block {
  return only(block[name], name)
}

/**
 * Every occurrence of a nested block, static and `dynamic` (the latter's content, with its for_each: an expression
 * string, or the parsed object when the for_each is a literal map).
 */
export function nestedAll(block: Block, name: string): { content: Block; forEach?: unknown }[] {
  const fixed = ((block[name] ?? []) as Block[]).map((content) => ({ content }))
  const dynamic = ((block.dynamic as Record<string, Block[]> | undefined)?.[name] ?? []).map((d) => ({
    content: only(d.content, `dynamic ${name}`),
    forEach: d.for_each,
  }))
  return [...fixed, ...dynamic]
}

/** `${ref}`: how hcl2json renders an attribute that is a single reference or expression. */
export const ref = (expression: string) => `\${${expression}}`

/** The literal a simple `${var.x}` / `${local.x}` reference resolves to with the module's defaults. */
export function resolve(m: Module, value: unknown): unknown {
  if (typeof value !== 'string') return value
  const match = /^\$\{(var|local)\.([a-z_]+)\}$/.exec(value)
  if (!match) return value
  const [, kind, name] = match as unknown as [string, string, string]
  return resolve(m, kind === 'var' ? variable(m, name).default : local(m, name))
}
