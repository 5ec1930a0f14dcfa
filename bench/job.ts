import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { build } from 'esbuild'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { loadConfig } from '../src/config.js'
import { HOURS, writeHourlyUsage } from './job-data.js'

/** The batched run alone, measured the same way: for the run with the shape signal on. */
export interface BatchedRunResult {
  checked: number
  anomaliesFound: number
  batchedSeconds: number
  /** max RSS of the whole child process (embedded engine and its background merges included) */
  peakRssMiB: number
  rssBeforeRunMiB: number
  /** sampled during the run */
  runPeakRssMiB: number
  /** JS heap + external + array buffers, sampled during the run: what the process holds besides the engine */
  runPeakJsMiB: number
  /**
   * The naive GROUP BY over the same rollup (issue 14's floor), twice in a process of its own before the job runs
   * (cold: the engine's first read of the table; warm: the second); the shape run's ratio uses the same floor.
   */
  floorColdSeconds: number
  floorWarmSeconds: number
  /**
   * The floor once more, in a fresh process after the job runs: this machine's speed can move within minutes (the
   * same floor measured 15.0 s in one run and 28.7 s in the next), and a floor on both sides of the job brackets it.
   */
  floorAfterSeconds: number
  /** The job's time over the floor: the mean of the faster floor before and the floor after. The goal is <= 1. */
  floorRatio: number
}

export interface JobBenchResult extends BatchedRunResult {
  customers: number
  series: number
  rollupRows: number
  generateSeconds: number
  loopSampledPairs: number
  loopSecondsPerPair: number
  loopEstimatedSeconds: number
  loopIsExtrapolated: boolean
  speedup: number
  /** The same slot run again in shards, one after the other: each shard's time, engine wait and series. */
  shardRuns: { seconds: number; engineSeconds: number; series: number }[]
  /**
   * The same slot with the shape signal on (volume + shape), in a process of its own on the same data right after
   * the volume-only one (so its reads are warmer), with its own anomaly store, against the same floor; null when not
   * asked for.
   */
  shape: BatchedRunResult | null
}

/** The detection job over `customers` x 4 metrics x 31 days of hourly usage: batched vs the seed's per-pair loop. */
export async function benchJob(
  dataDir: string,
  customers: number,
  loopSeconds: number,
  log: (s: string) => void,
  withShape = false,
): Promise<JobBenchResult> {
  const database = `bench_job_${customers}`
  const slot = Date.UTC(2026, 10, 1)
  const config = loadConfig({}, { dataDir, logLevel: 'warn', demo: { enabled: false } })
  const client = await createClickHouseClient(config)
  const generateStarted = performance.now()
  log(
    `  generating ${customers} customers x 4 metrics x ${HOURS} hours = ${(customers * 4 * HOURS).toLocaleString('en-US')} rollup rows`,
  )
  let parts = 0
  try {
    // Returns once the engine's background merges of the written parts are over (see writeHourlyUsage).
    parts = (await writeHourlyUsage(client, database, customers, slot)).parts
  } finally {
    await client.close()
  }
  const generateSeconds = (performance.now() - generateStarted) / 1000
  log(
    `  generated in ${generateSeconds.toFixed(1)} s (the rollup in ${parts} parts once merges settled); running the job in a child process`,
  )
  const childScript = await compiledJobChild()
  const child = (...extra: string[]) => {
    const run = spawnSync(
      process.execPath,
      [
        childScript,
        '--data-dir',
        dataDir,
        '--database',
        database,
        '--slot',
        String(slot),
        '--customers',
        String(customers),
        '--loop-seconds',
        String(loopSeconds),
        ...extra,
      ],
      { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 },
    )
    if (run.status !== 0) throw new Error(`job benchmark child failed: ${run.stderr}`)
    return JSON.parse(run.stdout.trim().split('\n').pop() as string)
  }
  // The floor per size in a process of its own before the runs and again after them, shared by the volume and the
  // shape run (the same data).
  const before = child('--floor') as { floorColdSeconds: number; floorWarmSeconds: number }
  const m = child()
  let s: ReturnType<typeof child> | null = null
  if (withShape) {
    log('  the same slot with shape on, in another child process')
    s = child('--shape', '--sqlite-path', join(dataDir, `${database}-shape.sqlite`))
  }
  const after = child('--floor', '--floor-runs', '1') as { floorColdSeconds: number }
  const floor = { ...before, floorAfterSeconds: after.floorColdSeconds }
  const floorSeconds =
    (Math.min(before.floorColdSeconds, before.floorWarmSeconds) + after.floorColdSeconds) / 2
  const shape: BatchedRunResult | null = s && {
    checked: s.checked,
    anomaliesFound: s.anomaliesFound,
    batchedSeconds: s.batchedSeconds,
    peakRssMiB: s.peakRssMiB,
    rssBeforeRunMiB: s.rssBeforeMiB,
    runPeakRssMiB: s.runPeakRssMiB,
    runPeakJsMiB: s.runPeakJsMiB,
    ...floor,
    floorRatio: s.batchedSeconds / floorSeconds,
  }
  const series = customers * 4
  const loopEstimatedSeconds = m.loopSecondsPerPair * series
  return {
    customers,
    series,
    rollupRows: series * HOURS,
    generateSeconds,
    checked: m.checked,
    anomaliesFound: m.anomaliesFound,
    batchedSeconds: m.batchedSeconds,
    peakRssMiB: m.peakRssMiB,
    rssBeforeRunMiB: m.rssBeforeMiB,
    runPeakRssMiB: m.runPeakRssMiB,
    runPeakJsMiB: m.runPeakJsMiB,
    loopSampledPairs: m.loopSampledPairs,
    loopSecondsPerPair: m.loopSecondsPerPair,
    loopEstimatedSeconds,
    loopIsExtrapolated: m.loopSampledPairs < series,
    speedup: loopEstimatedSeconds / m.batchedSeconds,
    shardRuns: m.shardRuns,
    ...floor,
    floorRatio: m.batchedSeconds / floorSeconds,
    shape,
  }
}

/**
 * The child as compiled JavaScript, the form production runs (`npm start` runs tsc's output, the Lambda an esbuild
 * bundle), not through tsx: its loader keeps a transpiler thread and its caches in the process (~40 MiB of the peak
 * RSS) and wraps every nested function in a naming helper that costs time in the job's per-series code. Written under
 * node_modules/.cache so that the bundle's package imports resolve to the project's node_modules.
 */
async function compiledJobChild(): Promise<string> {
  const outfile = join('node_modules', '.cache', 'meterflow-bench', 'job-child.mjs')
  await build({
    entryPoints: [join('bench', 'job-child.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  })
  return outfile
}
