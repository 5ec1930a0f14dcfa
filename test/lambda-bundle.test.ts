import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { inflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildLambda, type LambdaBuild, NATIVE_EXTERNALS } from '../scripts/build-lambda.js'

// The bundle is built into temporary directories (dist/lambda may be in use by the bench) and unpacked outside the
// repository, where no node_modules can supply a package the bundle lacks: what loads there is what Lambda loads.

interface ZipEntry {
  name: string
  /** DOS date and time fields as stored. */
  dosTime: number
  dosDate: number
  data: Buffer
}

/** A minimal zip reader (central directory + stored/deflated entries), enough to check what yazl wrote. */
function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  const count = zip.readUInt16LE(eocd + 10)
  let at = zip.readUInt32LE(eocd + 16)
  const entries: ZipEntry[] = []
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10)
    const dosTime = zip.readUInt16LE(at + 12)
    const dosDate = zip.readUInt16LE(at + 14)
    const compressed = zip.readUInt32LE(at + 20)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const local = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const raw = zip.subarray(dataStart, dataStart + compressed)
    entries.push({ name, dosTime, dosDate, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) })
    at += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

const work = mkdtempSync(join(tmpdir(), 'meterflow-lambda-bundle-'))
let built: LambdaBuild
let zip: Buffer
let unpacked: string

beforeAll(async () => {
  built = await buildLambda({ outDir: join(work, 'build') })
  zip = readFileSync(join(work, 'build', 'meterflow-lambda.zip'))
  unpacked = join(work, 'unpacked')
  for (const entry of readZip(zip)) {
    const path = join(unpacked, entry.name)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, entry.data)
  }
}, 120_000)
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** Runs `code` (an ES module body with `handler`/`worker` from the unpacked bundle) in a fresh node process. */
function runWithBundle(code: string, env: Record<string, string> = {}) {
  const url = pathToFileURL(join(unpacked, 'index.mjs')).href
  const result = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { handler, worker } = await import(${JSON.stringify(url)});\n${code}`,
    ],
    { cwd: unpacked, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 },
  )
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-25T12:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/meterflow-anomaly-detection'],
  detail: {},
}
const context = `{ functionName: 'meterflow', functionVersion: '$LATEST', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:meterflow', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 300000 }`

describe('the Lambda bundle (npm run build:lambda)', () => {
  it('holds no native module: chDB and better-sqlite3 are neither bundled nor loaded with the handler', () => {
    for (const native of NATIVE_EXTERNALS) expect(built.packages).not.toContain(native)
    expect(built.loadedAtImport).toEqual([])
    // chDB stays behind a dynamic import() on the embedded path; better-sqlite3 only in the SQLite store's chunk.
    expect(built.externalImports).toContainEqual({ path: 'chdb/connection', kind: 'dynamic-import' })
    // node-redis (the Redis shape index, its own chunk) imports its optional peer @node-rs/xxhash inside a try, for
    // digest() only, which the index never calls: left out, and loaded by nothing.
    expect(built.externalImports).toContainEqual({ path: '@node-rs/xxhash', kind: 'dynamic-import' })
    expect(built.externalImports.map((i) => i.path).sort()).toEqual([
      '@node-rs/xxhash',
      'better-sqlite3',
      'chdb/connection',
    ])
    expect(existsSync(join(work, 'node_modules'))).toBe(false)
    expect(existsSync(join(dirname(work), 'node_modules'))).toBe(false)
  })

  it('is a deterministic zip under 5 MB: sorted entries, fixed times, every output', async () => {
    expect(built.zipBytes).toBeLessThan(5 * 1024 * 1024)
    const entries = readZip(zip)
    const names = entries.map((e) => e.name)
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)))
    expect(names).toContain('index.mjs')
    expect(names).toContain('index.mjs.map')
    expect(names.filter((n) => n.startsWith('chunks/') && n.endsWith('.mjs')).length).toBeGreaterThan(0)
    // 2000-01-01 00:00 as a DOS date (yazl writes local time; the fields are equal across entries and builds).
    expect(new Set(entries.map((e) => `${e.dosDate}/${e.dosTime}`)).size).toBe(1)
    const again = await buildLambda({ outDir: join(work, 'again') })
    expect(again.zipBytes).toBe(built.zipBytes)
    expect(readFileSync(join(work, 'again', 'meterflow-lambda.zip')).equals(zip)).toBe(true)
  }, 120_000)

  it('loads outside the repository, exports handler and worker, and refuses a malformed event before opening anything', () => {
    const result = runWithBundle(
      `console.log(typeof handler, typeof worker)
      try { await handler({ id: 'x' }, ${context}) } catch (err) { console.log(err.name, err.message) }`,
    )
    const lines = result.stdout.trim().split('\n')
    expect(lines[0]).toBe('function function')
    expect(lines.at(-1)).toBe('ValidationError invalid scheduled event: time is required; nothing was run')
    // Powertools Logger writes errors to stderr, as one JSON line with the Lambda context.
    const logged = JSON.parse(result.stderr.trim())
    expect(logged).toMatchObject({
      level: 'ERROR',
      message: 'scheduled run failed',
      service: 'meterflow',
      function_request_id: 'req-1',
      error: { name: 'ValidationError', details: [{ field: 'time', reason: 'is required' }] },
    })
  })

  it('goes to the ClickHouse URL without loading chDB (which is not there to load)', async () => {
    // A port with nothing listening: the container must fail on the connection, not on a missing package.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number }
        probe.close(() => resolve(port))
      })
    })
    const result = runWithBundle(
      `try { await handler(${JSON.stringify(event)}, ${context}) } catch (err) { console.log('FAILED', err.name, err.message) }
      try { await import('chdb/connection'); console.log('chdb is resolvable') } catch { console.log('chdb is not resolvable') }`,
      {
        METERFLOW_CLICKHOUSE_URL: `http://127.0.0.1:${port}`,
        METERFLOW_ANOMALY_STORE: 'dynamodb',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    )
    const out = `${result.stdout}\n${result.stderr}`
    expect(out).toContain('chdb is not resolvable')
    expect(out).toMatch(/FAILED \w+ .*ECONNREFUSED/)
    expect(out).not.toMatch(/Cannot find (package|module)/)
  })
})
