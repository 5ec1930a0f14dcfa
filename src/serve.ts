import { isAbsolute, join, relative, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { latestCompletedSlot } from './app/recent-runs.js'
import type { Config } from './config.js'
import { DemoFeed } from './demo/feed.js'
import { generateDemo } from './demo/generator.js'
import { loadDemo, readDemoOptions, writeLabels } from './demo/load.js'
import { floorToHour, HOUR_MS } from './domain/time.js'
import { buildServer } from './http/server.js'
import { parseSchedule } from './schedule/expression.js'
import { realSchedulerClock, Scheduler, type SchedulerClock } from './schedule/scheduler.js'
import { type MeterFlow, openMeterFlow } from './wiring.js'

export interface RunningService {
  app: FastifyInstance
  meterflow: MeterFlow
  url: string
  /** The demo's live usage (null unless demo data is on, its feed too, and this store holds the demo data). */
  demoFeed: DemoFeed | null
  /** Stops taking requests, lets in-flight ones finish, then closes the stores. */
  stop(): Promise<void>
}

export interface StartOptions {
  /** Where the first start's admin key is shown (default: stdout, outside the JSON log). */
  announce?: (text: string) => void
  /** The time of the service and its schedulers (default: the system's); tests pass a fake one. */
  clock?: SchedulerClock
}

/** `npm start`: open the stores, load demo data into an empty embedded store, serve HTTP. */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const clock = options.clock ?? realSchedulerClock
  const meterflow = await openMeterFlow(config, { clock })
  try {
    if (config.auth.mode === 'on') {
      // Shown right after it is made, before anything else can fail: a key made but never shown locks people out.
      const created = await meterflow.keys.bootstrap(config.auth.adminKey)
      const announce = options.announce ?? ((text: string) => process.stdout.write(text))
      if (created) announce(adminKeyBanner(created.token, config))
    }
    const app = await buildServer(meterflow)
    if (runsDetectionAlone(config)) await recordInterruptedRuns(meterflow, app)
    if (config.demo.enabled && (await meterflow.usage.countEvents()) === 0) {
      await loadStartupDemo(meterflow, app)
    }
    // After the load: the feed continues the demo data this store holds, and fills the hours since the last start.
    const demoFeed = config.demo.enabled && config.demo.feed ? await openDemoFeed(meterflow, app) : null
    const url = await app.listen({ port: config.http.port, host: config.http.host })
    const feeding = demoFeed ? startDemoFeedScheduler(demoFeed, app, clock) : null
    const scheduler = config.job.schedulerEnabled ? startScheduler(meterflow, app, clock, demoFeed) : null
    const digest = config.job.schedulerEnabled ? startDigestScheduler(meterflow, app, clock) : null
    // Retries (and anything a crashed process left in the outbox) go out on this timer.
    meterflow.alerts.start(config.alerts.deliveryIntervalMs, (err) =>
      app.log.error({ err }, 'alert delivery pass failed'),
    )
    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= (async () => {
        // Detection first: a run in flight may be waiting for the feed's pass.
        await scheduler?.stop()
        await feeding?.stop()
        await demoFeed?.stop()
        await digest?.stop()
        await app.close()
        await meterflow.close()
      })()
      return stopping
    }
    return { app, meterflow, url, demoFeed, stop }
  } catch (err) {
    await meterflow.close()
    throw err
  }
}

/**
 * Whether no other process can be running detection on these stores: the embedded engine admits one process per
 * data directory (chDB locks it), and the anomaly store is the SQLite file inside that directory.
 */
function runsDetectionAlone(config: Config): boolean {
  if (config.clickhouse.url || config.anomalyStore.kind !== 'sqlite') return false
  const sqlite = config.anomalyStore.sqlitePath
  if (sqlite === undefined) return true
  const inside = relative(resolve(config.dataDir), resolve(sqlite))
  return !inside.startsWith('..') && !isAbsolute(inside)
}

/** A run this directory shows as running was cut short by a process that stopped (kill -9, power loss). */
async function recordInterruptedRuns(meterflow: MeterFlow, app: FastifyInstance): Promise<void> {
  const { runs, alertError } = await meterflow.job.failInterruptedRuns(Number.POSITIVE_INFINITY)
  if (runs.length > 0) {
    app.log.warn(
      { runs: runs.map((r) => ({ run_id: r.runId, slot: new Date(r.slot).toISOString() })) },
      'runs a stopped process left running are recorded as failed (interrupted)',
    )
  }
  if (alertError) app.log.error({ error: alertError }, 'job-health alert not raised')
}

/**
 * Runs the detection job on the configured EventBridge schedule (the embedded stand-in for EventBridge -> Lambda).
 * With the demo feed on, each run first waits for the feed to have written up to the end of the current hour, so
 * the slot's last hour is complete whichever loop wakes first.
 */
function startScheduler(
  meterflow: MeterFlow,
  app: FastifyInstance,
  clock: SchedulerClock,
  demoFeed: DemoFeed | null,
): Scheduler {
  const schedule = parseSchedule(meterflow.config.job.schedule)
  const scheduler = new Scheduler({
    schedule,
    clock,
    async lastCompletedSlot() {
      return latestCompletedSlot(meterflow.anomalies, meterflow.clock.now())
    },
    async runSlot(slot) {
      if (demoFeed) await feedDemo(demoFeed, app)
      const { run, alertError, delivery: sending } = await meterflow.runSlot(slot, 'schedule', 'wait')
      const summary = {
        run_id: run.runId,
        slot: new Date(run.slot).toISOString(),
        checked: run.checked,
        anomalies_found: run.anomaliesFound,
        duration_ms: run.durationMs,
      }
      if (run.status === 'failed') app.log.error({ ...summary, error: run.error }, 'detection run failed')
      else app.log.info(summary, 'detection run completed')
      if (alertError) app.log.error({ run_id: run.runId, error: alertError }, 'job-health alert not raised')
      const delivery = await sending
      if (delivery.delivered + delivery.retrying + delivery.failed > 0) app.log.info(delivery, 'alerts sent')
    },
    onError(err, slot) {
      app.log.error({ err, slot: new Date(slot).toISOString() }, 'detection run could not start')
    },
  })
  scheduler.start()
  app.log.info(`detection scheduled: ${schedule.describe()}`)
  return scheduler
}

/** Sends the ops digest on its own schedule (config alerts.digestSchedule); one missed while down is not sent. */
function startDigestScheduler(meterflow: MeterFlow, app: FastifyInstance, clock: SchedulerClock): Scheduler {
  const scheduler = new Scheduler({
    schedule: parseSchedule(meterflow.config.alerts.digestSchedule),
    clock,
    // No catch-up: yesterday's digest a day late is noise (POST /v1/alerts/digest sends one by hand).
    lastCompletedSlot: async () => meterflow.clock.now(),
    async runSlot(slot) {
      const enqueued = await meterflow.alerts.raiseDigest(slot)
      await meterflow.alerts.deliver()
      app.log.info({ slot: new Date(slot).toISOString(), enqueued }, 'digest raised')
    },
    onError(err) {
      app.log.error({ err }, 'digest could not be raised')
    },
  })
  scheduler.start()
  return scheduler
}

async function loadStartupDemo(meterflow: MeterFlow, app: FastifyInstance): Promise<void> {
  const { customers, days, seed } = meterflow.config.demo
  // End at the next hour so the current hour holds data and "the last 24 hours" shows the showcase anomalies.
  const endMs = floorToHour(meterflow.clock.now()) + HOUR_MS
  const dataset = generateDemo({ customers, days, seed, endMs })
  const labelsPath = join(meterflow.config.dataDir, 'demo-labels.json')
  app.log.info(
    { customers, days, events: dataset.totalEvents },
    'empty store: loading demo data (set METERFLOW_DEMO=0 to skip)',
  )
  let lastDecile = -1
  await loadDemo(
    dataset,
    (batch) => meterflow.ingest(batch),
    (done, total) => {
      const decile = Math.floor((done / total) * 10)
      if (decile !== lastDecile) {
        lastDecile = decile
        app.log.info(`demo data ${Math.round((done / total) * 100)}% (${done}/${total} events)`)
      }
    },
  )
  writeLabels(labelsPath, dataset)
  app.log.info({ labels: labelsPath, anomalies: dataset.labels.length }, 'demo data loaded')
}

/**
 * The live feed of the demo data in demo-labels.json, after writing the hours missed since the last start; null (and
 * said why) when this store holds no demo data: a store with a user's own data is never written to.
 */
async function openDemoFeed(meterflow: MeterFlow, app: FastifyInstance): Promise<DemoFeed | null> {
  const labelsPath = join(meterflow.config.dataDir, 'demo-labels.json')
  let options: ReturnType<typeof readDemoOptions>
  try {
    options = readDemoOptions(labelsPath)
  } catch (err) {
    app.log.warn({ err }, 'demo feed off: the demo labels file cannot be read')
    return null
  }
  if (!options) {
    app.log.info(`demo feed off: this store holds no demo data (no ${labelsPath})`)
    return null
  }
  const feed = await DemoFeed.open({
    dataset: generateDemo(options),
    usage: meterflow.usage,
    ingest: (batch) => meterflow.ingest(batch),
    clock: meterflow.clock,
  })
  if (!feed) {
    app.log.warn(`demo feed off: this store does not hold the demo data ${labelsPath} describes`)
    return null
  }
  await feedDemo(feed, app)
  app.log.info(
    "demo feed on: each new hour gets the demo customers' usage (set METERFLOW_DEMO_FEED=0 to stop it)",
  )
  return feed
}

/** One pass of the feed, logged; a failure is logged and left to the next pass (a run then sees what is stored). */
async function feedDemo(feed: DemoFeed, app: FastifyInstance): Promise<void> {
  try {
    const pass = await feed.catchUp()
    if (pass.hours > 0) {
      const through = new Date(pass.through).toISOString()
      app.log.info({ ...pass, through }, 'demo usage written (set METERFLOW_DEMO_FEED=0 to stop it)')
    }
    if (pass.conflicts > 0)
      app.log.warn(pass, 'demo usage: ids already stored with other values were skipped')
  } catch (err) {
    app.log.error({ err }, 'demo usage could not be written')
  }
}

/** Writes each new hour of demo usage as it begins (rate(1 hour): on the hour). */
function startDemoFeedScheduler(feed: DemoFeed, app: FastifyInstance, clock: SchedulerClock): Scheduler {
  const scheduler = new Scheduler({
    schedule: parseSchedule('rate(1 hour)'),
    clock,
    // Nothing to catch up: openDemoFeed wrote the missed hours.
    lastCompletedSlot: async () => clock.now(),
    runSlot: () => feedDemo(feed, app),
    onError(err) {
      app.log.error({ err }, 'demo usage could not be written')
    },
  })
  scheduler.start()
  return scheduler
}

/** The first start's message: the key, once, and how to use it. Printed, never logged. */
function adminKeyBanner(token: string, config: Config): string {
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host
  const line = '='.repeat(78)
  return [
    line,
    ' MeterFlow created an admin API key. It is shown this once; only its hash is stored.',
    '',
    `   ${token}`,
    '',
    ' Use it:',
    `   export METERFLOW_API_KEY=${token}`,
    `   curl -H "Authorization: Bearer $METERFLOW_API_KEY" http://${host}:${config.http.port}/v1/runs`,
    ' Make narrower keys with `meterflow keys create --name <name> --scope ingest` (or read).',
    ' Lost it? `meterflow keys create --name admin --scope admin` with this configuration makes another.',
    line,
    '',
  ].join('\n')
}
