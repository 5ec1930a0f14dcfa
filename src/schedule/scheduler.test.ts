import { setImmediate as tick } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { parseSchedule } from './expression.js'
import { realSchedulerClock, Scheduler, type SchedulerClock, type SchedulerOptions } from './scheduler.js'

const HOUR = 3_600_000
const ms = (iso: string) => Date.parse(iso)
const iso = (t: number) => new Date(t).toISOString()

/**
 * Fake time: sleep() jumps the clock forward at once. A sleep that would pass `horizon` parks instead
 * (until aborted) and resolves `parked`, so a test can await the loop reaching the horizon.
 */
class FakeClock implements SchedulerClock {
  parked: Promise<void>
  #park!: () => void

  constructor(
    public t: number,
    readonly horizon: number,
  ) {
    this.parked = new Promise((resolve) => {
      this.#park = resolve
    })
  }

  now(): number {
    return this.t
  }

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    await tick()
    if (signal.aborted) return
    if (this.t + ms <= this.horizon) {
      this.t += ms
      return
    }
    this.#park()
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  }
}

interface Harness {
  clock: FakeClock
  scheduler: Scheduler
  /** Slots in the order their runs started, with the fake time each started. */
  runs: { slot: string; startedAt: string }[]
  errors: { slot: string; message: string }[]
  maxConcurrent: () => number
}

function harness(opts: {
  now: string
  horizon: string
  lastCompleted: string | null
  schedule?: string
  /** Fake time a slot's run takes (default 5 minutes). */
  durationMs?: (slotMs: number) => number
  fail?: (slotMs: number) => boolean
  runSlot?: SchedulerOptions['runSlot']
}): Harness {
  const clock = new FakeClock(ms(opts.now), ms(opts.horizon))
  const runs: Harness['runs'] = []
  const errors: Harness['errors'] = []
  let active = 0
  let maxActive = 0
  const runSlot =
    opts.runSlot ??
    (async (slotMs: number) => {
      runs.push({ slot: iso(slotMs), startedAt: iso(clock.now()) })
      active++
      maxActive = Math.max(maxActive, active)
      try {
        // Yield to the event loop so an overlapping run would have the chance to start.
        await tick()
        clock.t += opts.durationMs?.(slotMs) ?? 5 * 60_000
        await tick()
        if (opts.fail?.(slotMs)) throw new Error(`boom ${iso(slotMs)}`)
      } finally {
        active--
      }
    })
  const scheduler = new Scheduler({
    schedule: parseSchedule(opts.schedule ?? 'rate(1 hour)'),
    runSlot,
    lastCompletedSlot: async () => (opts.lastCompleted === null ? null : ms(opts.lastCompleted)),
    clock,
    onError: (err, slotMs) => errors.push({ slot: iso(slotMs), message: (err as Error).message }),
  })
  return { clock, scheduler, runs, errors, maxConcurrent: () => maxActive }
}

describe('Scheduler', () => {
  it('after downtime, catches up by running only the latest missed slot, once', async () => {
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-10T12:30:00Z',
      lastCompleted: '2026-03-10T05:00:00Z',
    })
    h.scheduler.start()
    expect(h.scheduler.running).toBe(true)
    await h.clock.parked
    await h.scheduler.stop()
    expect(h.scheduler.running).toBe(false)
    expect(h.runs).toEqual([
      { slot: '2026-03-10T10:00:00.000Z', startedAt: '2026-03-10T10:30:00.000Z' },
      { slot: '2026-03-10T11:00:00.000Z', startedAt: '2026-03-10T11:00:00.000Z' },
      { slot: '2026-03-10T12:00:00.000Z', startedAt: '2026-03-10T12:00:00.000Z' },
    ])
  })

  it('catches up when nothing ever completed', async () => {
    const h = harness({ now: '2026-03-10T10:30:00Z', horizon: '2026-03-10T10:59:00Z', lastCompleted: null })
    h.scheduler.start()
    await h.clock.parked
    await h.scheduler.stop()
    expect(h.runs.map((r) => r.slot)).toEqual(['2026-03-10T10:00:00.000Z'])
  })

  it('does not catch up when the last completed slot is current', async () => {
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-10T12:30:00Z',
      lastCompleted: '2026-03-10T10:00:00Z',
      schedule: 'cron(0 * * * ? *)',
    })
    h.scheduler.start()
    await h.clock.parked
    await h.scheduler.stop()
    expect(h.runs.map((r) => r.slot)).toEqual(['2026-03-10T11:00:00.000Z', '2026-03-10T12:00:00.000Z'])
  })

  it('never overlaps runs: after an overrun only the latest due slot runs, right after', async () => {
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-10T15:30:00Z',
      lastCompleted: '2026-03-10T10:00:00Z',
      // The 11:00 run takes 2.5 h, finishing at 13:30 after the 12:00 and 13:00 fire times.
      durationMs: (slot) => (slot === ms('2026-03-10T11:00:00Z') ? 2.5 * HOUR : 5 * 60_000),
    })
    h.scheduler.start()
    await h.clock.parked
    await h.scheduler.stop()
    expect(h.maxConcurrent()).toBe(1)
    expect(h.runs).toEqual([
      { slot: '2026-03-10T11:00:00.000Z', startedAt: '2026-03-10T11:00:00.000Z' },
      { slot: '2026-03-10T13:00:00.000Z', startedAt: '2026-03-10T13:30:00.000Z' },
      { slot: '2026-03-10T14:00:00.000Z', startedAt: '2026-03-10T14:00:00.000Z' },
      { slot: '2026-03-10T15:00:00.000Z', startedAt: '2026-03-10T15:00:00.000Z' },
    ])
  })

  it('reports a failing slot and carries on with later slots, without retrying it', async () => {
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-10T13:30:00Z',
      lastCompleted: '2026-03-10T10:00:00Z',
      fail: (slot) => slot === ms('2026-03-10T11:00:00Z'),
    })
    h.scheduler.start()
    await h.clock.parked
    await h.scheduler.stop()
    expect(h.errors).toEqual([{ slot: '2026-03-10T11:00:00.000Z', message: 'boom 2026-03-10T11:00:00.000Z' }])
    expect(h.runs.map((r) => r.slot)).toEqual([
      '2026-03-10T11:00:00.000Z',
      '2026-03-10T12:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
    ])
  })

  it('stop() waits for the in-flight run, and no run starts after stop', async () => {
    let finish!: () => void
    const started: number[] = []
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-11T00:00:00Z',
      lastCompleted: null,
      runSlot: (slotMs) => {
        started.push(slotMs)
        return new Promise<void>((resolve) => {
          finish = resolve
        })
      },
    })
    h.scheduler.start()
    while (started.length === 0) await tick()
    // The run is in flight (the catch-up slot) and the clock is already past the next fire time.
    h.clock.t = ms('2026-03-10T11:30:00Z')
    let stopped = false
    const stopping = h.scheduler.stop().then(() => {
      stopped = true
    })
    for (let i = 0; i < 5; i++) await tick()
    expect(stopped).toBe(false)
    expect(h.scheduler.running).toBe(true)
    finish()
    await stopping
    for (let i = 0; i < 5; i++) await tick()
    expect(h.scheduler.running).toBe(false)
    expect(started.map(iso)).toEqual(['2026-03-10T10:00:00.000Z'])
  })

  it('stop() during the wait ends the loop without running anything', async () => {
    const h = harness({
      now: '2026-03-10T10:30:00Z',
      horizon: '2026-03-10T10:45:00Z',
      lastCompleted: '2026-03-10T10:00:00Z',
    })
    h.scheduler.start()
    await h.clock.parked
    await h.scheduler.stop()
    h.clock.t = ms('2026-03-10T15:00:00Z')
    for (let i = 0; i < 5; i++) await tick()
    expect(h.runs).toEqual([])
    expect(h.scheduler.running).toBe(false)
  })
})

describe('realSchedulerClock', () => {
  it('sleeps for the given time, and an abort ends the sleep at once', async () => {
    const started = Date.now()
    await realSchedulerClock.sleep(20, new AbortController().signal)
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)

    const abort = new AbortController()
    const sleeping = realSchedulerClock.sleep(60_000, abort.signal)
    abort.abort()
    await sleeping
    await realSchedulerClock.sleep(60_000, abort.signal) // already aborted: resolves immediately
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
