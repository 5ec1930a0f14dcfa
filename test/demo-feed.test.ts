import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../src/config.js'
import { DEMO_METRICS, generateDemo, liveHourEvents } from '../src/demo/generator.js'
import { toApiEvent } from '../src/demo/load.js'
import type { AnomalyRecord } from '../src/domain/anomaly.js'
import type { DetectionRun } from '../src/domain/run.js'
import type { SchedulerClock } from '../src/schedule/scheduler.js'
import { type RunningService, startService } from '../src/serve.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'

// The demo's live feed inside the running service (real schedulers, job, ingest and chDB) on a fake clock: each new
// hour gets every demo series' usage once, before the run that judges it, across passes, restarts and a skipped tick;
// and it never writes where demo data is off or absent.

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 25, 12, 20) // a Wednesday, 20 minutes into the hour
const END = Date.UTC(2026, 10, 25, 13) // the start-up load ends with the current hour
const OPTIONS = { customers: 6, days: 35, seed: 42 }
const demo = generateDemo({ ...OPTIONS, endMs: END })
const SERIES = demo.customers.flatMap((c) =>
  DEMO_METRICS.map((metric) => ({ customer: c.customerId, metric })),
)
const LABELLED = new Set(demo.labels.map((l) => `${l.customer_id}/${l.metric}`))

/**
 * Fake time for the service and its schedulers: sleeps wait until the test moves the clock past them, and wake in
 * the order they began, or only the latest one (a timer that fires late, as timers do on a busy machine).
 */
class SteppedClock implements SchedulerClock {
  #sleepers: { wake: number; resolve: () => void }[] = []

  constructor(public t: number) {}

  now(): number {
    return this.t
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve()
      const sleeper = { wake: this.t + ms, resolve }
      this.#sleepers.push(sleeper)
      signal.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
          resolve()
        },
        { once: true },
      )
    })
  }

  /** Moves the clock to `t`; wakes the sleepers due by then, or with `latestOnly` just the last to begin. */
  advanceTo(t: number, { latestOnly = false } = {}): number {
    this.t = t
    return this.#wake(latestOnly)
  }

  /** Wakes every sleeper due now; returns how many. */
  release(): number {
    return this.#wake(false)
  }

  #wake(latestOnly: boolean): number {
    const due = this.#sleepers.filter((s) => s.wake <= this.t)
    const woken = latestOnly ? due.slice(-1) : due
    this.#sleepers = this.#sleepers.filter((s) => !woken.includes(s))
    for (const s of woken) s.resolve()
    return woken.length
  }
}

const data = tempDataDir()
const demoDir = join(data.dir, 'demo')
const clock = new SteppedClock(T0)
let service: RunningService | null = null
afterAll(async () => {
  await service?.stop()
  data.remove()
})

function config(dir: string, overrides: ConfigInput = {}) {
  return testConfig(dir, {
    demo: { enabled: true, ...OPTIONS },
    http: { port: 0 },
    job: { schedulerEnabled: true },
    ...overrides,
  })
}

async function start(dir = demoDir, overrides: ConfigInput = {}): Promise<RunningService> {
  service = await startService(config(dir, overrides), { clock })
  return service
}

async function stop(): Promise<void> {
  await service?.stop()
  service = null
}

/** The run of `slot` once it has finished (the scheduler runs it in the background). */
async function finishedRun(meterflow: MeterFlow, slot: number): Promise<DetectionRun> {
  for (let i = 0; i < 600; i++) {
    const runs = await meterflow.anomalies.listRuns({ limit: 20 })
    const run = runs.items.find((r) => r.slot === slot && r.status !== 'running')
    if (run) return run
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no finished run for ${new Date(slot).toISOString()}`)
}

/** Events stored per demo series and hour in [from, to), as `customer/metric` -> counts, hour by hour. */
async function eventsPerHour(meterflow: MeterFlow, from: number, to: number): Promise<Map<string, number[]>> {
  const windows = []
  for (let t = from; t < to; t += HOUR) windows.push({ startMs: t, endMs: t + HOUR })
  const out = new Map<string, number[]>()
  for (const { customer, metric } of SERIES) {
    const hours = await meterflow.usage.aggregateWindows(customer, metric, 'sum', windows)
    out.set(
      `${customer}/${metric}`,
      hours.map((h) => h.events),
    )
  }
  return out
}

async function expectEachHourOnce(meterflow: MeterFlow, through: number): Promise<void> {
  const perHour = await eventsPerHour(meterflow, END, through)
  const hours = (through - END) / HOUR
  for (const [series, counts] of perHour) expect(counts, series).toEqual(new Array(hours).fill(1))
  expect(await meterflow.usage.countEvents()).toBe(demo.totalEvents + hours * SERIES.length)
}

async function anomaliesOf(meterflow: MeterFlow, slot: number): Promise<AnomalyRecord[]> {
  return (await meterflow.anomalies.queryAnomalies({ since: slot, until: slot + 1, limit: 1000 })).items
}

/** Drops the run of `slot` found on series the demo planted nothing on: what an empty hour would cause. */
async function unplantedDrops(meterflow: MeterFlow, slot: number): Promise<string[]> {
  return (await anomaliesOf(meterflow, slot))
    .filter((a) => a.direction === 'drop' && !LABELLED.has(`${a.customerId}/${a.metric}`))
    .map((a) => `${a.customerId}/${a.metric}`)
}

describe('the demo feed in the running service', () => {
  it('writes every demo series each new hour, once, before the run that judges it', async () => {
    const { meterflow, demoFeed } = await start()
    expect(demoFeed).not.toBeNull()
    expect(await finishedRun(meterflow, END - HOUR)).toMatchObject({ status: 'completed' }) // catch-up at start
    expect(await meterflow.usage.countEvents()).toBe(demo.totalEvents)

    for (const slot of [END, END + HOUR, END + 2 * HOUR]) {
      clock.advanceTo(slot)
      const run = await finishedRun(meterflow, slot)
      expect(run).toMatchObject({ status: 'completed', checked: SERIES.length })
      await expectEachHourOnce(meterflow, slot + HOUR) // the hour that began at the slot is there too
    }
    // A skipped tick (the machine slept) and the feed's timer late: at 18:00 only the detection loop wakes (the
    // latest sleeper: each slot it ends after the feed's pass). Its run still finds [17:00, 18:00) complete because it
    // waits for the feed, which writes the three missing hours first.
    const jump = END + 5 * HOUR
    clock.advanceTo(jump, { latestOnly: true })
    expect(await finishedRun(meterflow, jump)).toMatchObject({ status: 'completed', checked: SERIES.length })
    await expectEachHourOnce(meterflow, jump + HOUR)
    expect(clock.release()).toBe(1) // the feed loop, late: it finds nothing left to write
    expect(await demoFeed?.catchUp()).toMatchObject({ hours: 0, stored: 0 })

    // Runs that judged a live hour: no drop the demo did not plant (the planted ones: globex's bandwidth, ...).
    for (const slot of [END + HOUR, END + 2 * HOUR, jump]) {
      expect(await unplantedDrops(meterflow, slot), new Date(slot).toISOString()).toEqual([])
    }
    const open = (await meterflow.anomalies.listIncidents({ status: 'open', limit: 100 })).items
    expect(open.filter((i) => !LABELLED.has(`${i.customerId}/${i.metric}`))).toEqual([])
  })

  it('writes nothing twice: another pass, the same hour sent again, a restart within the hour', async () => {
    const running = service as RunningService
    expect(await running.demoFeed?.catchUp()).toMatchObject({ hours: 0, stored: 0 })
    const again = await running.meterflow.ingest(liveHourEvents(demo, END + 2 * HOUR).map(toApiEvent))
    expect(again).toMatchObject({ stored: 0, duplicates: SERIES.length, conflicts: 0 })
    await stop()

    clock.advanceTo(END + 5 * HOUR + 10 * 60_000)
    const restarted = await start()
    expect(restarted.demoFeed).not.toBeNull()
    await expectEachHourOnce(restarted.meterflow, END + 6 * HOUR)
  })

  it('after a stop, writes the hours missed (once each) before the catch-up run', async () => {
    await stop()
    const later = END + 8 * HOUR + 30 * 60_000 // three hours later: [19:00, 22:00) are missing
    clock.advanceTo(later)
    const { meterflow } = await start()
    await expectEachHourOnce(meterflow, END + 9 * HOUR)
    const slot = END + 8 * HOUR
    expect(await finishedRun(meterflow, slot)).toMatchObject({ status: 'completed', checked: SERIES.length })
    expect(await unplantedDrops(meterflow, slot)).toEqual([])
  })

  it('is what keeps the runs quiet: a slot whose last hour the feed did not write finds every customer dropping', async () => {
    await stop()
    const at = END + 10 * HOUR + 5 * 60_000 // the feed wrote through END + 9 h; the service is not running
    const meterflow = await openMeterFlow(testConfig(demoDir), { clock: new ManualClock(at) })
    try {
      const slot = END + 10 * HOUR
      const { run } = await meterflow.runSlot(slot, 'api', 'wait')
      expect(run.status).toBe('completed')
      // At 23:00 UTC quiet night hours may stay within their bands, but every gauge reading nothing is a drop.
      const drops = await unplantedDrops(meterflow, slot)
      expect(drops).toEqual(expect.arrayContaining(demo.customers.map((c) => `${c.customerId}/storage_peak`)))
      expect(run.incidentsOpened).toBeGreaterThanOrEqual(demo.customers.length)
    } finally {
      await meterflow.close()
    }
  })
})

describe('the demo feed stays off', () => {
  it('with demo data off, or the feed off: nothing is written as hours pass', async () => {
    for (const overrides of [
      { demo: { enabled: false } },
      { demo: { enabled: true, feed: false, ...OPTIONS } },
    ]) {
      const before = clock.t
      const { meterflow, demoFeed } = await start(demoDir, overrides)
      expect(demoFeed).toBeNull()
      const count = await meterflow.usage.countEvents()
      clock.advanceTo(before + 2 * HOUR)
      expect(await finishedRun(meterflow, Math.floor(clock.t / HOUR) * HOUR)).toMatchObject({
        status: 'completed',
      })
      expect(await meterflow.usage.countEvents()).toBe(count)
      await stop()
    }
  })

  it("on a store holding a user's own data, even with demo on and a stray demo labels file", async () => {
    const userDir = join(data.dir, 'user')
    const own = await start(userDir, { demo: { enabled: false } })
    await own.meterflow.ingest([
      { event_id: 'mine-1', customer_id: 'mine', metric: 'api_calls', value: 5, timestamp: clock.t - HOUR },
    ])
    await stop()

    const noLabels = await start(userDir) // demo on: the store is not empty, so no load, and no demo data to feed
    expect(noLabels.demoFeed).toBeNull()
    expect(await noLabels.meterflow.usage.countEvents()).toBe(1)
    await stop()

    mkdirSync(userDir, { recursive: true })
    copyFileSync(join(demoDir, 'demo-labels.json'), join(userDir, 'demo-labels.json'))
    const stray = await start(userDir) // labels, but the store lacks their data: not this store's demo
    expect(stray.demoFeed).toBeNull()
    expect(await stray.meterflow.usage.countEvents()).toBe(1)
    await stop()
  })
})
