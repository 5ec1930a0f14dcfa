import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { baselineStepMs, baselineWindows, type TimeWindow } from '../src/domain/windows.js'
import type { WindowHistory } from '../src/ports.js'
import { type Harness, openHarness, seededRandom } from './helpers.js'

// The check's one-query history (windowHistory) against the two reads it replaced (firstEventHour and
// aggregateWindows), on the same data: hourly and sub-hour events, late events that land after a first read, a
// gauge (max) and a series without events, for aligned (rollup) and unaligned (raw) windows of several lengths.
const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
let h: Harness

type ApiEvent = { customer_id: string; metric: string; value: number; timestamp: number }

/** Deterministic values (a tiny LCG), so the comparison covers fractional sums without a random failure. */
function events(customer: string, seed: number): ApiEvent[] {
  const next = seededRandom(seed)
  const out: ApiEvent[] = []
  for (let t = END - 33 * DAY + 7 * HOUR; t < END + HOUR; t += HOUR) {
    if (next() < 0.15) continue
    for (const metric of ['api_calls', 'storage_peak']) {
      out.push({ customer_id: customer, metric, value: Math.round(next() * 1e6) / 100, timestamp: t })
      out.push({
        customer_id: customer,
        metric,
        value: next() * 10,
        timestamp: t + Math.floor(next() * HOUR),
      })
    }
  }
  return out
}

/** One batch: each hour of a series sits in one part of the rollup until the late events below. */
async function ingest(batch: ApiEvent[]) {
  expect(batch.length).toBeLessThanOrEqual(10_000)
  expect((await h.meterflow.ingest(batch)).stored).toBe(batch.length)
}

beforeAll(async () => {
  h = await openHarness(END + HOUR)
  await ingest(events('c-a', 1))
  await ingest(events('c-b', 2))
})
afterAll(async () => {
  await h?.close()
})

const WINDOWS: [string, TimeWindow][] = [
  ['24 h aligned', { startMs: END - DAY, endMs: END }],
  ['1 h aligned', { startMs: END - HOUR, endMs: END }],
  ['3 days aligned', { startMs: END - 3 * DAY, endMs: END }],
  ['24 h unaligned', { startMs: END - DAY + 1234, endMs: END + 1234 }],
  ['7 min unaligned', { startMs: END - 7 * 60_000 - 5, endMs: END - 5 }],
  ['25 h aligned', { startMs: END - 25 * HOUR, endMs: END }],
]

async function bothWays(customerId: string, metric: string, aggregation: 'sum' | 'max', current: TimeWindow) {
  const windows = baselineWindows(current, 30)
  const [history, first, aggregates] = await Promise.all([
    h.meterflow.usage.windowHistory({
      customerId,
      metric,
      aggregation,
      window: current,
      stepMs: baselineStepMs(current),
      count: windows.length,
    }),
    h.meterflow.usage.firstEventHour(customerId, metric),
    h.meterflow.usage.aggregateWindows(customerId, metric, aggregation, [current, ...windows]),
  ])
  return { history, separate: { firstEventHourMs: first, aggregates } }
}

/**
 * The same first hour, counts and values up to the order of addition: the engine adds a window's rows in parallel,
 * so even the old reads return either of two values differing in the last bit (measured: 40 reads of one window on
 * unchanged data gave 2 distinct answers, old and new alike).
 */
function expectSame(got: WindowHistory, want: WindowHistory) {
  expect(got.firstEventHourMs).toBe(want.firstEventHourMs)
  expect(got.aggregates.map((a) => a.events)).toEqual(want.aggregates.map((a) => a.events))
  got.aggregates.forEach((a, i) => {
    const b = want.aggregates[i]?.value ?? Number.NaN
    expect(Math.abs(a.value - b)).toBeLessThanOrEqual(Math.abs(b) * 1e-12)
  })
}

describe('windowHistory', () => {
  for (const [name, window] of WINDOWS) {
    it(`answers what firstEventHour + aggregateWindows answer: ${name}`, async () => {
      for (const [customer, metric, aggregation] of [
        ['c-a', 'api_calls', 'sum'],
        ['c-b', 'storage_peak', 'max'],
        ['nobody', 'api_calls', 'sum'],
      ] as const) {
        const { history, separate } = await bothWays(customer, metric, aggregation, window)
        expectSame(history, separate)
        if (customer !== 'nobody') expect(history.aggregates.some((a) => a.events > 0)).toBe(true)
      }
    })
  }

  it('still agrees after late events land in windows already read, and before the first hour', async () => {
    const window = WINDOWS[0]?.[1] as TimeWindow
    const before = await bothWays('c-a', 'api_calls', 'sum', window)
    await ingest([
      { customer_id: 'c-a', metric: 'api_calls', value: 41.5, timestamp: END - 2 * HOUR + 17 },
      { customer_id: 'c-a', metric: 'api_calls', value: 7.25, timestamp: END - 3 * DAY - 5 * HOUR },
      { customer_id: 'c-a', metric: 'api_calls', value: 3, timestamp: END - 34 * DAY },
    ])
    const after = await bothWays('c-a', 'api_calls', 'sum', window)
    expectSame(after.history, after.separate)
    expect(after.history.firstEventHourMs).toBe(END - 34 * DAY)
    expect(after.history.aggregates[0]?.value).toBeCloseTo(
      (before.history.aggregates[0]?.value ?? 0) + 41.5,
      6,
    )
  })

  it('refuses a step shorter than the window', async () => {
    await expect(
      h.meterflow.usage.windowHistory({
        customerId: 'c-a',
        metric: 'api_calls',
        aggregation: 'sum',
        window: { startMs: END - DAY, endMs: END },
        stepMs: HOUR,
        count: 3,
      }),
    ).rejects.toThrow(/step at least its length/)
  })
})
