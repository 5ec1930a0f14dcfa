import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { DEMO_METRICS, generateDemo } from '../src/demo/generator.js'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'
import { type AlertBenchResult, benchAlerts, printAlertBench } from './alerts.js'
import { apiBenchConfig, CHECK_BENCH_OPTIONS, checkLatency, distinctAlignedChecks } from './check-latency.js'
import { ingestDirect, ingestInProcess, ingestOverHttp, requestBodies } from './ingest.js'
import { benchJob, type JobBenchResult } from './job.js'
import { benchLambda, printLambdaBench } from './lambda.js'

const { values: args } = parseArgs({
  options: {
    ...CHECK_BENCH_OPTIONS,
    'job-customers': { type: 'string', default: '1000,10000,100000' },
    /** Job sizes (of job-customers) also run with the shape signal on, beside volume only. */
    'shape-customers': { type: 'string', default: '100000' },
    'loop-seconds': { type: 'string', default: '20' },
  },
})
const jobSizes = (args['job-customers'] as string).split(',').filter(Boolean).map(Number)
const shapeSizes = new Set((args['shape-customers'] as string).split(',').filter(Boolean).map(Number))
const customers = Number(args.customers)
const days = Number(args.days)
const seconds = Number(args.seconds)
const connections = Number(args.connections)

const log = (text: string) => process.stderr.write(`${text}\n`)
const floorTimes = (r: { floorColdSeconds: number; floorWarmSeconds: number; floorAfterSeconds: number }) =>
  [r.floorColdSeconds, r.floorWarmSeconds, r.floorAfterSeconds].map((t) => t.toFixed(2)).join('/')
const progress = (label: string, total: number) => (done: number) => {
  if (done === total || done % Math.max(1, Math.floor(total / 10)) === 0)
    log(`  ${label}: ${done}/${total} batches`)
}

const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-bench-'))
const config = apiBenchConfig(dataDir)
const client = await createClickHouseClient(config)

try {
  const endMs = floorToHour(Date.now()) + HOUR_MS
  const dataset = generateDemo({ customers, days, seed: 1, endMs })
  const batchCount = Math.ceil(dataset.totalEvents / 10_000)
  log(
    `bench: ${dataset.totalEvents} events (${customers} customers x ${days} days x 4 metrics, hourly) in ${batchCount} batches of 10,000`,
  )

  const httpFlow = await openMeterFlow(
    { ...config, clickhouse: { ...config.clickhouse, database: 'bench_http' } },
    { clickhouse: client },
  )
  const app = await buildServer(httpFlow, { logLevel: 'warn' })
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })

  log('ingest over HTTP')
  const bodies = requestBodies(dataset)
  const http = await ingestOverHttp(baseUrl, bodies, progress('http', batchCount))
  log('ingest in process')
  const useCaseFlow = await openMeterFlow(
    { ...config, clickhouse: { ...config.clickhouse, database: 'bench_usecase' } },
    { clickhouse: client },
  )
  const inProcess = await ingestInProcess(useCaseFlow, dataset, progress('in-process', batchCount))
  log('ingest straight into the engine')
  const direct = await ingestDirect(client, 'bench_direct', dataset, progress('direct', batchCount))

  // The three paths must have stored the same thing, or the comparison means nothing.
  for (const db of ['bench_http', 'bench_usecase', 'bench_direct']) {
    const rows = await (
      await client.query({
        query: 'SELECT count() AS n FROM {db:Identifier}.usage_events',
        query_params: { db },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>()
    if (Number(rows[0]?.n) !== dataset.totalEvents)
      throw new Error(`${db} holds ${rows[0]?.n} rows, expected ${dataset.totalEvents}`)
  }

  const ids = dataset.customers.map((c) => c.customerId)
  const pairs = ids.flatMap((id) =>
    DEMO_METRICS.map((metric) => `customer_id=${encodeURIComponent(id)}&metric=${metric}`),
  )
  const alignedEnd = new Date(endMs).toISOString()
  log(`check latency: ${connections} connections x ${seconds}s, default window (raw events)`)
  const rawLatency = await checkLatency(
    'default window: last 24 h up to now (raw events), mode=volume',
    baseUrl,
    pairs.map((p) => `/v1/anomalies/check?${p}&mode=volume`),
    connections,
    seconds,
  )
  log(`check latency: ${connections} connections x ${seconds}s, hour-aligned window (hourly rollup)`)
  const rollupLatency = await checkLatency(
    'hour-aligned 24 h window (hourly rollup; repeated: kept in memory after the first read), mode=volume',
    baseUrl,
    pairs.map((p) => `/v1/anomalies/check?${p}&current_end=${alignedEnd}&mode=volume`),
    connections,
    seconds,
  )
  log(`check latency: ${connections} connections x ${seconds}s, hour-aligned windows never repeated (engine)`)
  const coldLatency = await checkLatency(
    'hour-aligned 24 h windows, never repeated (read from the engine), mode=volume',
    baseUrl,
    // From the hour before: the windows ending at alignedEnd were just read and are kept.
    distinctAlignedChecks(pairs, endMs, 'volume', 1),
    connections,
    seconds,
  )
  log(`check latency: ${connections} connections x ${seconds}s, default window and mode (volume + shape)`)
  const combinedLatency = await checkLatency(
    'default window and mode: combined (volume + shape profiles)',
    baseUrl,
    pairs.map((p) => `/v1/anomalies/check?${p}`),
    connections,
    seconds,
  )
  await app.close()
  // autocannon drops its sockets at the deadline; handlers of the last requests may still be querying.
  await new Promise((resolve) => setTimeout(resolve, 1000))

  await client.close()

  const alerts: AlertBenchResult[] = await benchAlerts(1000, log)
  const lambda = await benchLambda(log)

  const jobs: JobBenchResult[] = []
  for (const customers of jobSizes) {
    log(`detection job: ${customers} customers`)
    jobs.push(
      await benchJob(dataDir, customers, Number(args['loop-seconds']), log, shapeSizes.has(customers)),
    )
  }

  const results = {
    measuredAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    dataset: { customers, days, events: dataset.totalEvents },
    ingest: [http, inProcess, direct].map((r) => ({
      ...r,
      ratioToDirect: r.eventsPerSecond / direct.eventsPerSecond,
    })),
    checkLatency: [rawLatency, rollupLatency, coldLatency, combinedLatency],
    alerts,
    lambda,
    job: jobs,
  }
  console.log('\nIngest throughput')
  console.table(
    results.ingest.map((r) => ({
      path: r.path,
      events: r.events,
      seconds: r.seconds.toFixed(2),
      'events/s': Math.round(r.eventsPerSecond),
      'vs direct': `${(r.ratioToDirect * 100).toFixed(0)}%`,
    })),
  )
  console.log('GET /v1/anomalies/check latency')
  console.table(
    results.checkLatency.map((r) => ({
      scenario: r.scenario,
      'req/s': Math.round(r.requestsPerSecond),
      'p50 ms': r.p50Ms,
      'p90 ms': r.p90Ms,
      'p99 ms': r.p99Ms,
      'max ms': r.maxMs,
      errors: r.errors + r.non2xx,
    })),
  )
  printAlertBench(results.alerts)
  printLambdaBench(results.lambda)
  console.log('Detection job (customers x 4 metrics x 31 days hourly; embedded engine)')
  console.table(
    results.job.map((j) => ({
      customers: j.customers,
      series: j.series,
      'rollup rows': j.rollupRows,
      'batched s': j.batchedSeconds.toFixed(2),
      'floor s (cold/warm/after)': floorTimes(j),
      'job / floor': j.floorRatio.toFixed(2),
      'RSS before/peak MiB': `${Math.round(j.rssBeforeRunMiB)}/${Math.round(j.runPeakRssMiB)}`,
      'JS peak MiB': Math.round(j.runPeakJsMiB),
      anomalies: j.anomaliesFound,
      'per-pair loop s': `${j.loopEstimatedSeconds.toFixed(0)}${j.loopIsExtrapolated ? ` (est. from ${j.loopSampledPairs} pairs)` : ''}`,
      speedup: `${j.speedup.toFixed(0)}x`,
    })),
  )
  console.log(
    'Detection job, volume only vs volume + shape (each in its own process; shape ran second, warmer)',
  )
  console.table(
    results.job.flatMap((j) =>
      j.shape === null
        ? []
        : [
            { signals: 'volume', ...j },
            { signals: 'volume + shape', ...j.shape },
          ].map((r) => ({
            customers: j.customers,
            signals: r.signals,
            'batched s': r.batchedSeconds.toFixed(2),
            'floor s (cold/warm/after)': floorTimes(r),
            'job / floor': r.floorRatio.toFixed(2),
            'RSS before/peak MiB': `${Math.round(r.rssBeforeRunMiB)}/${Math.round(r.runPeakRssMiB)}`,
            'max RSS MiB': Math.round(r.peakRssMiB),
            'JS peak MiB': Math.round(r.runPeakJsMiB),
            anomalies: r.anomaliesFound,
          })),
    ),
  )
  console.log('Sharded run of the same slot (shards run one after the other; engine = waiting for the query)')
  console.table(
    results.job.flatMap((j) =>
      j.shardRuns.map((r, i) => ({
        customers: j.customers,
        shard: `${i + 1}/${j.shardRuns.length}`,
        series: r.series,
        seconds: r.seconds.toFixed(2),
        'engine s': r.engineSeconds.toFixed(2),
        'JS s': (r.seconds - r.engineSeconds).toFixed(2),
        'series/s': Math.round(r.series / r.seconds),
      })),
    ),
  )
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`)
  log('written to bench/results/latest.json')
} finally {
  await client.close().catch(() => undefined)
  rmSync(dataDir, { recursive: true, force: true })
}
