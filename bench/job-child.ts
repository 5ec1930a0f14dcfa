// One benchmark measurement in its own process, so that its peak RSS is the job's alone:
// the batched run over every series, then the seed's per-series loop on a time-boxed sample.
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.js'
import { DAY_MS } from '../src/domain/time.js'
import { openMeterFlow } from '../src/wiring.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    database: { type: 'string' },
    slot: { type: 'string' },
    customers: { type: 'string' },
    'loop-seconds': { type: 'string', default: '20' },
  },
})
const slot = Number(values.slot)
const customers = Number(values.customers)
const config = loadConfig(
  {},
  {
    dataDir: values['data-dir'] as string,
    logLevel: 'warn',
    demo: { enabled: false },
    job: { schedulerEnabled: false },
    clickhouse: { database: values.database as string },
  },
)
const meterflow = await openMeterFlow(config)
const rssBefore = process.memoryUsage().rss
// RSS includes the embedded engine (in production ClickHouse is remote); the JS side is what a Lambda would hold.
let peakJs = 0
let peakRss = 0
const sample = () => {
  const m = process.memoryUsage()
  peakJs = Math.max(peakJs, m.heapUsed + m.external + m.arrayBuffers)
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
    })
    pairs++
    if (performance.now() > deadline) break outer
  }
}
const loopSeconds = (performance.now() - loopStarted) / 1000
await meterflow.close()
process.stdout.write(
  `${JSON.stringify({
    checked: run.checked,
    anomaliesFound: run.anomaliesFound,
    batchedSeconds,
    peakRssMiB,
    rssBeforeMiB: rssBefore / 2 ** 20,
    runPeakRssMiB: peakRss / 2 ** 20,
    runPeakJsMiB: peakJs / 2 ** 20,
    loopSampledPairs: pairs,
    loopSampleSeconds: loopSeconds,
    loopSecondsPerPair: loopSeconds / pairs,
  })}\n`,
)
