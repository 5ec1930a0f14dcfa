// `npx tsx bench/check-only.ts [--seconds 10] [--connections 10]`: the check-latency part of the bench alone (the same
// data as `npm run bench`: 100 customers x 35 days, ingested in process), for quick iterations on the check path.
// Also times one check at a time (1 connection), which is what "one check takes N ms" means.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEMO_METRICS, generateDemo } from '../src/demo/generator.js'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'
import {
  apiBenchConfig,
  CHECK_BENCH_OPTIONS,
  checkLatency,
  distinctAlignedChecks,
  type LatencyResult,
} from './check-latency.js'
import { ingestInProcess } from './ingest.js'

const { values: args } = parseArgs({
  options: {
    ...CHECK_BENCH_OPTIONS,
  },
})
const seconds = Number(args.seconds)
const connections = Number(args.connections)
const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-checkbench-'))
const config = apiBenchConfig(dataDir)
try {
  const endMs = floorToHour(Date.now()) + HOUR_MS
  const dataset = generateDemo({ customers: Number(args.customers), days: Number(args.days), seed: 1, endMs })
  const meterflow = await openMeterFlow(config)
  await ingestInProcess(meterflow, dataset, () => undefined)
  const app = await buildServer(meterflow, { logLevel: 'warn' })
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  const pairs = dataset.customers.flatMap((c) =>
    DEMO_METRICS.map((metric) => `customer_id=${encodeURIComponent(c.customerId)}&metric=${metric}`),
  )
  const alignedEnd = new Date(endMs).toISOString()
  // Paths by scenario, for a run with c connections.
  const scenarios: [string, (c: number) => string[]][] = [
    ['default window (raw events), volume', () => pairs.map((p) => `/v1/anomalies/check?${p}&mode=volume`)],
    // The same 400 checks again and again: after the first pass, answered from the store's history cache.
    [
      'hour-aligned (rollup), volume',
      () => pairs.map((p) => `/v1/anomalies/check?${p}&current_end=${alignedEnd}&mode=volume`),
    ],
    // Each connection count its own windows (a day further back), none kept by the other's run, and none ending at
    // the hour-aligned scenario's end (those it read are kept).
    [
      'hour-aligned, never repeated (engine), volume',
      (c) => distinctAlignedChecks(pairs, endMs, 'volume', c === 1 ? 1 : 25),
    ],
    [
      'hour-aligned (rollup), combined',
      () => pairs.map((p) => `/v1/anomalies/check?${p}&current_end=${alignedEnd}`),
    ],
    ['default window, combined', () => pairs.map((p) => `/v1/anomalies/check?${p}`)],
  ]
  const results: LatencyResult[] = []
  // One pass per connection count: with --connections 1 a second pass would repeat the first's "never repeated"
  // windows, which the history cache then answers.
  for (const c of new Set([1, connections])) {
    for (const [name, paths] of scenarios)
      results.push(await checkLatency(name, baseUrl, paths(c), c, seconds))
  }
  await app.close()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await meterflow.close()
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      connections: r.connections,
      'req/s': Math.round(r.requestsPerSecond),
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      errors: r.errors + r.non2xx,
    })),
  )
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
