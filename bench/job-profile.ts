// Where one detection run's time and memory go (issue 14), for iterating on the job:
//   npx tsx bench/job-profile.ts --data-dir /tmp/mf-prof --customers 10000 --generate   (once per size)
//   npx tsx bench/job-profile.ts --data-dir /tmp/mf-prof --customers 10000              (one run, fresh anomaly store)
// Each query the usage store sends (time, result size, the engine's tracked memory after it), the wait on the store
// vs the JavaScript between chunks, the anomaly-store calls, and RSS / JS heap sampled every 20 ms (peak, and where).
// Timing lives here only: the job's code is measured as it is. Prints one JSON line (stdout) and a table (stderr).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { type ClickHouseClient, createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { embeddedEnginePath } from '../src/adapters/clickhouse/data-dir-lock.js'
import { loadConfig } from '../src/config.js'
import { openMeterFlow } from '../src/wiring.js'
import { writeHourlyUsage } from './job-data.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    customers: { type: 'string', default: '10000' },
    generate: { type: 'boolean', default: false },
    /** Merge the rollup into one part per partition (OPTIMIZE FINAL; --generate leaves the few its merges settle on). */
    optimize: { type: 'boolean', default: false },
    /** The job's customers per chunk (config job.customersPerChunk; default the config's). */
    chunk: { type: 'string' },
    /** Extra ClickHouse settings for every query of the run, `name=value,name=value` (to measure their effect). */
    settings: { type: 'string', default: '' },
    /** The shape signal on too (volume + shape), as the bench's second run has it. */
    shape: { type: 'boolean', default: false },
  },
})
const dataDir = values['data-dir'] as string
const customers = Number(values.customers)
const database = `bench_job_${customers}`
const slot = Date.UTC(2026, 10, 1)
const log = (s: string) => process.stderr.write(`${s}\n`)

if (values.generate || values.optimize) {
  const config = loadConfig({}, { dataDir, logLevel: 'warn', demo: { enabled: false } })
  const client = await createClickHouseClient(config)
  const started = performance.now()
  if (values.generate) await writeHourlyUsage(client, database, customers, slot)
  if (values.optimize) {
    for (const table of ['usage_hourly', 'usage_first_seen']) {
      await client.command({
        query: `OPTIMIZE TABLE {db:Identifier}.${table} FINAL`,
        query_params: { db: database },
      })
    }
  }
  await client.close()
  log(`prepared ${customers} customers in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  process.exit(0)
}

const storeDir = mkdtempSync(join(tmpdir(), 'meterflow-prof-'))
const config = loadConfig(
  {},
  {
    dataDir,
    logLevel: 'warn',
    demo: { enabled: false },
    job: {
      schedulerEnabled: false,
      ...(values.chunk ? { customersPerChunk: Number(values.chunk) } : {}),
    },
    clickhouse: { database },
    detection: { shape: { enabled: values.shape === true } },
    anomalyStore: { sqlitePath: join(storeDir, 'anomalies.sqlite') },
  },
)
const mib = (bytes: number) => bytes / 2 ** 20
let phase = 'open'
const peak = { rss: 0, rssPhase: '', js: 0, jsPhase: '', heap: 0 }
const sample = () => {
  const m = process.memoryUsage()
  if (m.rss > peak.rss) Object.assign(peak, { rss: m.rss, rssPhase: phase })
  if (m.heapUsed + m.external > peak.js) Object.assign(peak, { js: m.heapUsed + m.external, jsPhase: phase })
  peak.heap = Math.max(peak.heap, m.heapUsed)
}
const sampler = setInterval(sample, 20)
const meterflow = await openMeterFlow(config)
const rssAtOpen = mib(process.memoryUsage().rss)

// Every query of the usage store, timed; the engine's tracked memory read after each (outside the timings).
const client = (meterflow.usage as unknown as { client: ClickHouseClient }).client
const extra = Object.fromEntries(
  (values.settings as string)
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('=') as [string, string]),
)
const queries: {
  what: string
  ms: number
  cpuMs: number
  resultMiB: number
  engineMiB: number
  rssMiB: number
}[] = []
/** CPU of the whole process (engine threads included) in ms: steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const engineMemory = async (): Promise<number> => {
  const r = await original({
    query: "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'",
    format: 'JSONCompactEachRow',
  })
  return mib(Number((await r.json<[string]>())[0]?.[0] ?? 0))
}
const original = client.query.bind(client)
let profiling = false
client.query = (async (params: Parameters<ClickHouseClient['query']>[0]) => {
  if (!profiling) return original(params)
  const what = describeQuery(params.query)
  phase = what
  const started = performance.now()
  const cpuStarted = cpuMs()
  const withExtra = { ...params, clickhouse_settings: { ...params.clickhouse_settings, ...extra } }
  const result = await original(withExtra as typeof params)
  const text = await result.text()
  const ms = performance.now() - started
  const cpu = cpuMs() - cpuStarted
  sample()
  const rssMiB = mib(process.memoryUsage().rss)
  queries.push({ what, ms, cpuMs: cpu, resultMiB: mib(text.length), engineMiB: await engineMemory(), rssMiB })
  phase = 'js'
  // The caller reads the text it would have read.
  return { ...result, text: async () => text, json: async () => parseRows(text, params.format) }
}) as ClickHouseClient['query']

// Queries whose reply is read as bytes (exec, e.g. the windows' RowBinary): timed the same way, through the reply's
// last byte.
const originalExec = client.exec.bind(client)
client.exec = (async (params: Parameters<ClickHouseClient['exec']>[0]) => {
  if (!profiling) return originalExec(params)
  const what = describeQuery(params.query)
  phase = what
  const started = performance.now()
  const cpuStarted = cpuMs()
  const withExtra = { ...params, clickhouse_settings: { ...params.clickhouse_settings, ...extra } }
  const result = await originalExec(withExtra as typeof params)
  const parts: Buffer[] = []
  for await (const part of result.stream) parts.push(part as Buffer)
  const bytes = Buffer.concat(parts)
  const ms = performance.now() - started
  const cpu = cpuMs() - cpuStarted
  sample()
  const rssMiB = mib(process.memoryUsage().rss)
  queries.push({
    what,
    ms,
    cpuMs: cpu,
    resultMiB: mib(bytes.length),
    engineMiB: await engineMemory(),
    rssMiB,
  })
  phase = 'js'
  return { ...result, stream: Readable.from([bytes]) }
}) as ClickHouseClient['exec']

function parseRows(text: string, format: string | undefined): unknown {
  if (format === 'JSONCompactEachRow' || format === 'JSONEachRow') {
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line))
  }
  return JSON.parse(text)
}
function describeQuery(sql: string): string {
  if (sql.includes('arraySort(groupUniqArray')) return 'chunk bounds'
  if (sql.includes('groupArray(idx)')) return 'recent hours'
  if (sql.includes('by_day')) {
    const what = sql.includes('AS profiles') ? 'windows+profiles' : 'windows'
    return /sumIf|sumResample/.test(sql) ? `${what} sum` : `${what} max`
  }
  if (sql.includes('profiles')) return /sum_value/.test(sql) ? 'profiles sum' : 'profiles max'
  return sql.replace(/\s+/g, ' ').trim().slice(0, 40)
}

// The store's chunks: time waiting on the store (its queries plus folding) vs the run's own JS per chunk.
let storeMs = 0
let chunks = 0
const seriesWindows = meterflow.usage.seriesWindows.bind(meterflow.usage)
meterflow.usage.seriesWindows = async function* (...args) {
  const iterator = seriesWindows(...args)[Symbol.asyncIterator]()
  while (true) {
    const waitStarted = performance.now()
    phase = 'store'
    const next = await iterator.next()
    storeMs += performance.now() - waitStarted
    phase = 'evaluate'
    if (next.done) return
    chunks++
    yield next.value
  }
}
// The anomaly store's calls, by method.
const anomalyCalls = new Map<string, { calls: number; ms: number }>()
const anomalies = meterflow.anomalies as unknown as Record<string, unknown>
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(anomalies))) {
  const fn = anomalies[name]
  if (name === 'constructor' || typeof fn !== 'function') continue
  // Sync methods stay sync (callers use their values directly).
  anomalies[name] = (...args: unknown[]) => {
    const before = phase
    phase = `anomalies.${name}`
    const started = performance.now()
    const done = () => {
      const entry = anomalyCalls.get(name) ?? { calls: 0, ms: 0 }
      entry.calls++
      entry.ms += performance.now() - started
      anomalyCalls.set(name, entry)
      phase = before
    }
    const out = (fn as (...a: unknown[]) => unknown).apply(meterflow.anomalies, args)
    if (out instanceof Promise) return out.finally(done)
    done()
    return out
  }
}

// The engine's tracked memory during the run, read every 50 ms through a second connection to the same directory
// (chDB runs same-path connections side by side): what ClickHouse itself holds, apart from the process's RSS.
const watcher = createClient({
  connection: createChdbConnection({ path: embeddedEnginePath(config) }) as unknown as NonNullable<
    Parameters<typeof createClient>[0]
  >['connection'],
})
let engineTracked = { peak: 0, phase: '' }
let watching = true
const watch = (async () => {
  while (watching) {
    const r = await watcher.query({
      query: "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'",
      format: 'JSONCompactEachRow',
    })
    const bytes = Number((await r.json<[string]>())[0]?.[0] ?? 0)
    if (bytes > engineTracked.peak) engineTracked = { peak: bytes, phase }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
})()

const rssBefore = mib(process.memoryUsage().rss)
profiling = true
const started = performance.now()
const runCpuStarted = cpuMs()
const { run } = await meterflow.job.runNow(slot, 'cli')
const runMs = performance.now() - started
const runCpuMs = cpuMs() - runCpuStarted
profiling = false
watching = false
await watch
await watcher.close()
sample()
clearInterval(sampler)
if (run.status !== 'completed') throw new Error(`run failed: ${run.error}`)
await meterflow.close()
rmSync(storeDir, { recursive: true, force: true })

const byWhat = new Map<
  string,
  { n: number; ms: number; cpuMs: number; resultMiB: number; maxEngineMiB: number }
>()
for (const q of queries) {
  const e = byWhat.get(q.what) ?? { n: 0, ms: 0, cpuMs: 0, resultMiB: 0, maxEngineMiB: 0 }
  byWhat.set(q.what, {
    n: e.n + 1,
    ms: e.ms + q.ms,
    cpuMs: e.cpuMs + q.cpuMs,
    resultMiB: e.resultMiB + q.resultMiB,
    maxEngineMiB: Math.max(e.maxEngineMiB, q.engineMiB),
  })
}
const queryMs = queries.reduce((s, q) => s + q.ms, 0)
const anomalyMs = [...anomalyCalls.values()].reduce((s, c) => s + c.ms, 0)
const report = {
  customers,
  checked: run.checked,
  anomaliesFound: run.anomaliesFound,
  runSeconds: runMs / 1000,
  runCpuSeconds: runCpuMs / 1000,
  chunks,
  storeSeconds: storeMs / 1000,
  querySeconds: queryMs / 1000,
  queryCpuSeconds: queries.reduce((s, q) => s + q.cpuMs, 0) / 1000,
  /** Store wait not spent in the engine: result parsing and folding in the adapter. */
  adapterJsSeconds: (storeMs - queryMs) / 1000,
  anomalyStoreSeconds: anomalyMs / 1000,
  /** The rest: the run's own JS (statistics, verdicts, incidents) and everything unaccounted for. */
  restSeconds: (runMs - storeMs - anomalyMs) / 1000,
  queries: Object.fromEntries(byWhat),
  anomalyCalls: Object.fromEntries(anomalyCalls),
  rssAtOpenMiB: rssAtOpen,
  rssBeforeRunMiB: rssBefore,
  peakRssMiB: mib(peak.rss),
  peakRssPhase: peak.rssPhase,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
  peakJsMiB: mib(peak.js),
  peakJsPhase: peak.jsPhase,
  peakHeapMiB: mib(peak.heap),
  peakEngineTrackedMiB: mib(engineTracked.peak),
  peakEngineTrackedPhase: engineTracked.phase,
  settings: extra,
}
log(
  [...byWhat]
    .map(
      ([w, e]) =>
        `  ${w.padEnd(14)} ${e.n} x, ${(e.ms / 1000).toFixed(2)} s (cpu ${(e.cpuMs / 1000).toFixed(2)} s), ${e.resultMiB.toFixed(1)} MiB out, engine <= ${e.maxEngineMiB.toFixed(0)} MiB`,
    )
    .join('\n'),
)
console.log(JSON.stringify(report))
