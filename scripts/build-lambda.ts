/**
 * `npm run build:lambda`: the Lambda bundle. One ESM file for the Node.js 22 runtime (minified, with a source map),
 * its esbuild metafile, and a deterministic zip (fixed times, sorted entries) for the Terraform module.
 *
 * Left out of the bundle: chDB and better-sqlite3 (native; the Lambda uses ClickHouse over HTTP and DynamoDB, and
 * both are imported only on the embedded path, so the bundle never loads them). Code splitting keeps a module
 * reached only through import() (the SQLite store) in a chunk of its own, so its static import of better-sqlite3
 * is not hoisted into the handler module. The AWS SDK v3 is bundled, not taken from the runtime: see SDK_DECISION.
 */
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type Metafile } from 'esbuild'
import { ZipFile } from 'yazl'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const LAMBDA_DIR = join(ROOT, 'dist', 'lambda')
export const LAMBDA_BUNDLE = join(LAMBDA_DIR, 'index.mjs')
export const LAMBDA_ZIP = join(LAMBDA_DIR, 'meterflow-lambda.zip')
export const LAMBDA_METAFILE = join(LAMBDA_DIR, 'metafile.json')

/** Never bundled, never loaded by the Lambda (native engines of the embedded deployment). */
export const NATIVE_EXTERNALS = ['chdb', 'better-sqlite3'] as const

/**
 * Bundle our pinned @aws-sdk/* (3.1169) rather than use the runtime's copy: the runtime's SDK version changes under
 * a deployed function without notice (and may lag behind the one tested here), and one bundled module graph imports
 * faster than hundreds of SDK modules resolved from node_modules. Measured here (`npm run bench`, `--compare-sdk`):
 * zip 1.69 MB bundled vs 1.15 MB external; cold import median 140 ms bundled vs 254 ms with the SDK from
 * node_modules on an idle machine (265 vs 572 ms under load).
 */
export const SDK_DECISION = 'bundled'

/** Zip entry times: fixed, so the same sources give the same zip (and Terraform sees no change). */
const ZIP_TIME = new Date(Date.UTC(2000, 0, 1))

export interface LambdaBuild {
  /** The JavaScript the function loads: index.mjs and its chunks. */
  bundleBytes: number
  /** Their source maps. */
  mapBytes: number
  zipBytes: number
  /** Input files from node_modules, by package name. */
  packages: string[]
  /** Bare imports left in the output, with how they are imported (static import or dynamic import()). */
  externalImports: { path: string; kind: string }[]
  /** Bare imports that loading index.mjs performs (static imports of it and of the chunks it imports statically). */
  loadedAtImport: string[]
}

export async function buildLambda(
  options: { externalAwsSdk?: boolean; outDir?: string } = {},
): Promise<LambdaBuild> {
  const outDir = options.outDir ?? LAMBDA_DIR
  // Only what this build writes: `npm run build` (tsc) also writes src/lambda's modules to dist/lambda.
  for (const name of ['chunks', 'index.mjs', 'index.mjs.map', 'metafile.json', 'meterflow-lambda.zip']) {
    rmSync(join(outDir, name), { recursive: true, force: true })
  }
  mkdirSync(outDir, { recursive: true })
  const outfile = join(outDir, 'index.mjs')
  const result = await build({
    entryPoints: { index: join(ROOT, 'src/lambda/index.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // Content hashes: the same sources give the same file names.
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    // Error class names survive minification: MeterFlowError takes its `name` from the class, and logs show it.
    keepNames: true,
    sourcemap: true,
    metafile: true,
    // ESM-first packages (the SDK's dist-es) tree-shake better than their CommonJS builds.
    mainFields: ['module', 'main'],
    external: [...NATIVE_EXTERNALS, ...(options.externalAwsSdk ? ['@aws-sdk/*', '@smithy/*'] : [])],
    // CommonJS dependencies call require() for Node built-ins; an ES module has no require of its own.
    banner: {
      js: "import{createRequire as __mfCreateRequire}from'node:module';const require=__mfCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  writeFileSync(join(outDir, 'metafile.json'), JSON.stringify(result.metafile))
  const zipPath = join(outDir, 'meterflow-lambda.zip')
  // Every output: the handler module, its chunks and their source maps (NODE_OPTIONS=--enable-source-maps).
  const outputs = Object.keys(result.metafile.outputs).map((path) => resolve(ROOT, path))
  await writeZip(
    zipPath,
    outputs.map((path) => ({ name: relative(outDir, path).split('\\').join('/'), path })),
  )
  const sizeOf = (suffix: string) =>
    outputs.filter((path) => path.endsWith(suffix)).reduce((sum, path) => sum + statSync(path).size, 0)
  return {
    bundleBytes: sizeOf('.mjs'),
    mapBytes: sizeOf('.map'),
    zipBytes: statSync(zipPath).size,
    packages: packagesOf(result.metafile),
    externalImports: externalImportsOf(result.metafile),
    loadedAtImport: loadedAtImport(result.metafile, relative(ROOT, outfile).split('\\').join('/')),
  }
}

function writeZip(path: string, entries: { name: string; path: string }[]): Promise<void> {
  const zip = new ZipFile()
  for (const entry of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
    zip.addBuffer(readFileSync(entry.path), entry.name, {
      mtime: ZIP_TIME,
      mode: 0o100644,
      compressionLevel: 9,
    })
  }
  zip.end()
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(path)
    out.on('close', () => resolvePromise())
    out.on('error', reject)
    zip.outputStream.on('error', reject).pipe(out)
  })
}

/** Package names of the bundled node_modules inputs (scoped names kept whole). */
export function packagesOf(metafile: Metafile): string[] {
  const names = new Set<string>()
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
    if (match?.[1]) names.add(match[1])
  }
  return [...names].sort()
}

export function externalImportsOf(metafile: Metafile): { path: string; kind: string }[] {
  const found = new Map<string, { path: string; kind: string }>()
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external && !isBuiltin(imported.path)) {
        found.set(`${imported.path} ${imported.kind}`, { path: imported.path, kind: imported.kind })
      }
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path))
}

/**
 * The packages loading `entry` imports: its static imports and those of every chunk it imports statically (a
 * dynamic import() runs only when its code path does).
 */
export function loadedAtImport(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (output: string) => {
    if (seen.has(output)) return
    seen.add(output)
    for (const imported of metafile.outputs[output]?.imports ?? []) {
      if (imported.kind !== 'import-statement' && imported.kind !== 'require-call') continue
      if (imported.external) {
        if (!isBuiltin(imported.path)) packages.add(imported.path)
      } else visit(imported.path)
    }
  }
  visit(entry)
  return [...packages].sort()
}

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(2)} MB`

async function main(): Promise<void> {
  const compare = process.argv.includes('--compare-sdk')
  if (compare) {
    const external = await buildLambda({
      externalAwsSdk: true,
      outDir: join(ROOT, 'dist', 'lambda-external-sdk'),
    })
    console.log(
      `with the AWS SDK left to the runtime: index.mjs and chunks ${mb(external.bundleBytes)}, zip ${mb(external.zipBytes)}`,
    )
    rmSync(join(ROOT, 'dist', 'lambda-external-sdk'), { recursive: true, force: true })
  }
  const built = await buildLambda()
  const native = built.packages.filter((p) => (NATIVE_EXTERNALS as readonly string[]).includes(p))
  const staticNative = built.loadedAtImport.filter((path) =>
    NATIVE_EXTERNALS.some((n) => path === n || path.startsWith(`${n}/`)),
  )
  console.log(
    `dist/lambda: index.mjs and chunks ${mb(built.bundleBytes)} (+ source maps ${mb(built.mapBytes)}); meterflow-lambda.zip ${mb(built.zipBytes)}; AWS SDK ${SDK_DECISION}`,
  )
  console.log(
    `left out: ${built.externalImports.map((i) => `${i.path} (${i.kind})`).join(', ') || 'nothing'}; loaded with the handler: ${built.loadedAtImport.join(', ') || 'no package outside the bundle'}; ${built.packages.length} packages bundled`,
  )
  if (native.length > 0 || staticNative.length > 0) {
    throw new Error(
      `native modules must not be bundled or loaded with the handler: ${[...native, ...staticNative].join(', ')}`,
    )
  }
  if (built.zipBytes >= 5 * MB) throw new Error(`the zip is ${mb(built.zipBytes)}; the goal is under 5 MB`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`build:lambda: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
