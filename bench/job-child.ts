// One benchmark measurement in its own process, so that its peak RSS is the job's alone:
// the batched run over every series, then the seed's per-series loop on a time-boxed sample.
// With --shape: the batched run with the shape signal on (volume + shape) only. With --floor: the engine's floor only
// (cold, then warm), in a process of its own: run before the job in the job's process, the floor's GROUP BY over the
// whole rollup left its memory in the engine and the job's peak RSS counted it.
import { parseArgs } from 'node:util'
import type { ClickHouseClient } from '@clickhouse/client'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { loadConfig } from '../src/config.js'
import type { DetectionRun } from '../src/domain/run.js'
import type { ShardTask } from '../src/domain/shard.js'
import { DAY_MS } from '../src/domain/time.js'
import { openMeterFlow } from '../src/wiring.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    database: { type: 'string' },
    slot: { type: 'string' },
    customers: { type: 'string' },
    'loop-seconds': { type: 'string', default: '20' },
    shards: { type: 'string', default: '4' },
    shape: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    /** With --floor: how many times (2: cold, then warm; 1: once, e.g. after the job). */
    'floor-runs': { type: 'string', default: '2' },
    'sqlite-path': { type: 'string' },
  },
})
const withShape = values.shape === true
const slot = Number(values.slot)
const customers = Number(values.customers)
const config = loadConfig(
  {},
  {
    dataDir: values['data-dir'] as string,
    logLevel: 'warn',
    demo: { enabled: false },
    job: {
      schedulerEnabled: false,
      shards: Number(values.shards),
      shardQueueUrl: 'https://sqs.invalid/bench',
    },
    clickhouse: { database: values.database as string },
    detection: { shape: { enabled: withShape } },
    ...(values['sqlite-path'] ? { anomalyStore: { sqlitePath: values['sqlite-path'] } } : {}),
  },
)
// Shard tasks stay in this process: the bench measures what one worker does with one shard.
const tasks: ShardTask[] = []
// The engine's floor (issue 14): one naive GROUP BY over the same hourly rollup computing the same 24-hour values,
// 30 daily baseline samples, mean, stddev and z for every series. Timed twice in a fresh process (cold, then warm).
const FLOOR_SQL = `SELECT count() FROM (
  SELECT customer_id, metric, sumIf(s, k = 0) AS cur, avgIf(s, k > 0) AS mean,
    stddevPopIf(s, k > 0) AS sd, (cur - mean) / greatest(sd, 1e-9) AS z
  FROM (SELECT customer_id, metric, intDiv({slot:UInt32} - 1 - toUInt32(hour), 86400) AS k, sum(sum_value) AS s
        FROM {db:Identifier}.usage_hourly
        WHERE hour >= toDateTime({slot:UInt32} - 31 * 86400) AND hour < toDateTime({slot:UInt32})
        GROUP BY customer_id, metric, k)
  GROUP BY customer_id, metric HAVING abs(z) >= 3)`
const floorSeconds = async (floorClient: ClickHouseClient): Promise<number> => {
  const started = performance.now()
  const result = await floorClient.query({
    query: FLOOR_SQL,
    query_params: { db: values.database, slot: Math.floor(slot / 1000) },
    format: 'JSONCompactEachRow',
  })
  await result.json()
  return (performance.now() - started) / 1000
}
if (values.floor === true) {
  const floorClient = await createClickHouseClient(config)
  const floorColdSeconds = await floorSeconds(floorClient)
  const floorWarmSeconds = values['floor-runs'] === '1' ? null : await floorSeconds(floorClient)
  await floorClient.close()
  process.stdout.write(`${JSON.stringify({ floorColdSeconds, floorWarmSeconds })}\n`)
  process.exit(0)
}
const meterflow = await openMeterFlow(config, {
  shardQueue: { send: async (sent) => void tasks.push(...sent) },
})
const rssBefore = process.memoryUsage().rss
// RSS includes the embedded engine (in production ClickHouse is remote); the JS side is what a Lambda would hold.
let peakJs = 0
let peakRss = 0
const sample = () => {
  const m = process.memoryUsage()
  // `external` already includes `arrayBuffers` (Node's process.memoryUsage docs): adding both counted them twice.
  peakJs = Math.max(peakJs, m.heapUsed + m.external)
  peakRss = Math.max(peakRss, m.rss)
}
const sampler = setInterval(sample, 50)
const started = performance.now()
const { run } = await meterflow.job.runNow(slot, 'cli')
const batchedSeconds = (performance.now() - started) / 1000
sample()
clearInterval(sampler)
const peakRssMiB = process.resourceUsage().maxRSS / 1024
if (run.status !== 'completed') throw new Error(`batched run failed: ${run.error}`)
const batched = {
  checked: run.checked,
  anomaliesFound: run.anomaliesFound,
  batchedSeconds,
  peakRssMiB,
  rssBeforeMiB: rssBefore / 2 ** 20,
  runPeakRssMiB: peakRss / 2 ** 20,
  runPeakJsMiB: peakJs / 2 ** 20,
}
if (withShape) {
  await meterflow.close()
  process.stdout.write(`${JSON.stringify(batched)}\n`)
  process.exit(0)
}

// The same slot again in shards, one after the other as workers would run them: each shard's time and how much of
// it was spent waiting for the engine (the rest is JavaScript: statistics, verdicts, store calls), which is what
// sizes shards for a Lambda (its CPU share is a fraction of a core at 512 MB, its engine is remote).
let engineMs = 0
const seriesWindows = meterflow.usage.seriesWindows.bind(meterflow.usage)
meterflow.usage.seriesWindows = async function* (...args) {
  const iterator = seriesWindows(...args)[Symbol.asyncIterator]()
  while (true) {
    const waitStarted = performance.now()
    const next = await iterator.next()
    engineMs += performance.now() - waitStarted
    if (next.done) return
    yield next.value
  }
}
const shardStart = await meterflow.startShardedRun(slot, 'cli')
if (shardStart.run.status !== 'running')
  throw new Error(`sharded run failed to start: ${shardStart.run.error}`)
const shardRuns: { seconds: number; engineSeconds: number; series: number }[] = []
let shardedRun: DetectionRun | null = null
for (const task of tasks) {
  engineMs = 0
  const shardStarted = performance.now()
  const outcome = await meterflow.runShard(task)
  const stored = await meterflow.anomalies.shards.results(task.runId)
  const mine = stored.find((r) => r.index === task.index)
  const series = mine
    ? (JSON.parse(mine.payload) as { evaluation: { checked: number } }).evaluation.checked
    : 0
  shardRuns.push({
    seconds: (performance.now() - shardStarted) / 1000,
    engineSeconds: engineMs / 1000,
    series,
  })
  if (outcome.finished) shardedRun = outcome.finished.run
}
if (shardedRun?.status !== 'completed' || shardedRun.checked !== run.checked) {
  throw new Error(`the sharded run did not check what the run did: ${JSON.stringify(shardedRun)}`)
}

// The seed's Lambda: for each customer, for each metric, one query. Sampled, then extrapolated.
const metrics = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']
const deadline = performance.now() + Number(values['loop-seconds']) * 1000
let pairs = 0
const loopStarted = performance.now()
outer: for (let c = 0; c < customers; c += Math.max(1, Math.floor(customers / 500))) {
  for (const metric of metrics) {
    await meterflow.check({
      customerId: `cust-${String(c).padStart(6, '0')}`,
      metric,
      currentStartMs: slot - DAY_MS,
      currentEndMs: slot,
      mode: 'volume',
    })
    pairs++
    if (performance.now() > deadline) break outer
  }
}
const loopSeconds = (performance.now() - loopStarted) / 1000
await meterflow.close()
process.stdout.write(
  `${JSON.stringify({
    ...batched,
    loopSampledPairs: pairs,
    loopSampleSeconds: loopSeconds,
    loopSecondsPerPair: loopSeconds / pairs,
    shardRuns,
  })}\n`,
)
