import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { UsageEvent } from '../domain/events.js'
import { DAY_MS, HOUR_MS } from '../domain/time.js'
import {
  customerSeries,
  DEMO_METRICS,
  type DemoOptions,
  demoEventId,
  generateDemo,
  liveHourEvents,
  SHOWCASE,
} from './generator.js'

// The live feed's hours (liveHourEvents): a pure function of the dataset's options and the hour.
const END_MS = Date.UTC(2025, 5, 15, 13)
const OPTIONS: DemoOptions = { customers: 120, days: 35, seed: 42, endMs: END_MS }
const dataset = generateDemo(OPTIONS)

/** One customer's live values of one metric for `hours` hours from the end of the data. */
function liveValues(customerId: string, metric: string, hours: number): number[] {
  const out: number[] = []
  for (let i = 0; i < hours; i++) {
    const e = liveHourEvents(dataset, END_MS + i * HOUR_MS).find(
      (x) => x.customerId === customerId && x.metric === metric,
    )
    if (!e) throw new Error(`no live event for ${customerId} ${metric}`)
    out.push(e.value)
  }
  return out
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length
const lastWeek = (xs: Float64Array) => xs.subarray(xs.length - 7 * 24)

describe('liveHourEvents: determinism', () => {
  it('gives the same events for an hour however, whenever and from whichever equal dataset it is made', () => {
    const hour = END_MS + 5 * HOUR_MS
    const first = liveHourEvents(dataset, hour)
    liveHourEvents(dataset, END_MS + 9 * HOUR_MS) // another hour first changes nothing
    expect(liveHourEvents(dataset, hour)).toEqual(first)
    expect(liveHourEvents(generateDemo({ ...OPTIONS }), hour)).toEqual(first)
  })

  it('differs between hours, customers and seeds', () => {
    const a = liveHourEvents(dataset, END_MS).map((e) => e.value)
    const b = liveHourEvents(dataset, END_MS + 7 * DAY_MS).map((e) => e.value) // same hour of the week
    const other = liveHourEvents(generateDemo({ ...OPTIONS, seed: 43 }), END_MS).map((e) => e.value)
    expect(b).not.toEqual(a)
    expect(other).not.toEqual(a)
    const calls = liveHourEvents(dataset, END_MS).filter((e) => e.metric === 'api_calls')
    expect(new Set(calls.map((e) => e.value)).size).toBeGreaterThan(0.9 * calls.length)
  })

  it('keeps the history as it was (its values are pinned: the eval figures in docs/ come from them)', () => {
    const small = generateDemo({ customers: 12, days: 35, seed: 42, endMs: END_MS })
    const hash = createHash('sha256')
    for (const batch of small.batches()) for (const e of batch) hash.update(`${e.eventId}|${e.value}\n`)
    expect(hash.digest('hex')).toBe(HISTORY_SHA256)
  })
})

describe('liveHourEvents: the hour', () => {
  const hour = END_MS + 3 * HOUR_MS
  const events = liveHourEvents(dataset, hour)

  it('has one event per customer and metric, with the id of that customer, metric and hour', () => {
    expect(events).toHaveLength(OPTIONS.customers * DEMO_METRICS.length)
    const expected: Pick<UsageEvent, 'customerId' | 'metric' | 'eventId' | 'timestampMs'>[] = []
    for (const c of dataset.customers) {
      for (const metric of DEMO_METRICS) {
        expected.push({
          customerId: c.customerId,
          metric,
          eventId: demoEventId(OPTIONS.seed, c.customerId, metric, hour),
          timestampMs: hour,
        })
      }
    }
    expect(
      events.map(({ customerId, metric, eventId, timestampMs }) => ({
        customerId,
        metric,
        eventId,
        timestampMs,
      })),
    ).toEqual(expected)
    // The feed relies on it: the hour's last event is the last customer's last metric.
    expect(events.at(-1)).toMatchObject({
      customerId: dataset.customers.at(-1)?.customerId,
      metric: 'storage_peak',
    })
  })

  it('continues the history ids without touching them: the first live hour is the end of the data', () => {
    const history = new Set<string>()
    for (const batch of dataset.batches()) for (const e of batch) history.add(e.eventId ?? '')
    expect(liveHourEvents(dataset, END_MS).some((e) => history.has(e.eventId ?? ''))).toBe(false)
    expect(history.has(demoEventId(OPTIONS.seed, SHOWCASE.spike, 'api_calls', END_MS - HOUR_MS))).toBe(true)
  })

  it('has finite, non-negative values, whole counts and millisecond compute seconds', () => {
    for (const e of events) {
      expect(Number.isFinite(e.value) && e.value >= 0).toBe(true)
      if (e.metric === 'compute_time') expect(Math.round(e.value * 1000)).toBeCloseTo(e.value * 1000, 6)
      else expect(Number.isInteger(e.value)).toBe(true)
    }
  })

  it('refuses an hour inside the history or not on the hour', () => {
    expect(() => liveHourEvents(dataset, END_MS - HOUR_MS)).toThrow(RangeError)
    expect(() => liveHourEvents(dataset, END_MS + 60_000)).toThrow(RangeError)
  })
})

describe('liveHourEvents: looks like the history', () => {
  it("a normal customer's week goes on at the level, daily shape and weekly shape of its last week", () => {
    const id = SHOWCASE.quietWeekends // b2b: strong daily and weekly shape
    const history = customerSeries(dataset, id).values.api_calls
    const week = lastWeek(history)
    const live = liveValues(id, 'api_calls', 7 * 24)
    // The same hours of the week line up (END is the same hour of the week 7 days on).
    expect(mean(live) / mean(week)).toBeGreaterThan(0.9)
    expect(mean(live) / mean(week)).toBeLessThan(1.1)
    const correlation = pearson(Array.from(week), live)
    expect(correlation).toBeGreaterThan(0.9)
    // Noise of the same size: hour-by-hour ratios to last week spread like last week's to the week before.
    const before = history.subarray(history.length - 14 * 24, history.length - 7 * 24)
    const spreadLive = spread(live.map((v, i) => v / (week[i] ?? 1)))
    const spreadHistory = spread(Array.from(week, (v, i) => v / (before[i] ?? 1)))
    expect(spreadLive / spreadHistory).toBeGreaterThan(0.6)
    expect(spreadLive / spreadHistory).toBeLessThan(1.6)
  })

  it('plants no new anomaly: the showcase spike and drop have ended, the data goes on as without them', () => {
    // A week against the last week without the anomaly: the same hours of the week.
    for (const [id, metric] of [
      [SHOWCASE.spike, 'api_calls'],
      [SHOWCASE.drop, 'bandwidth'],
    ] as const) {
      const clean = lastWeek(customerSeries(dataset, id, { anomalies: false }).values[metric])
      const live = liveValues(id, metric, 7 * 24)
      expect(live.every((v) => v > 0)).toBe(true)
      expect(mean(live) / mean(clean), `${id} ${metric}`).toBeGreaterThan(0.9)
      expect(mean(live) / mean(clean), `${id} ${metric}`).toBeLessThan(1.1)
    }
  })

  it('carries a level shift or a ramp that lasts to the end of the data on at its factor', () => {
    const shifts = dataset.labels.filter((l) => l.description.includes('until the end of the data'))
    expect(new Set(shifts.map((l) => l.kind))).toEqual(new Set(['level_shift', 'ramp']))
    for (const label of shifts) {
      const clean = customerSeries(dataset, label.customer_id, { anomalies: false }).values
      const series = clean[label.metric as (typeof DEMO_METRICS)[number]]
      const ratio = mean(liveValues(label.customer_id, label.metric, 7 * 24)) / mean(lastWeek(series))
      expect(ratio / label.magnitude, `${label.customer_id} ${label.metric}`).toBeGreaterThan(0.85)
      expect(ratio / label.magnitude, `${label.customer_id} ${label.metric}`).toBeLessThan(1.15)
    }
  })
})

function pearson(xs: number[], ys: number[]): number {
  const mx = mean(xs)
  const my = mean(ys)
  let sxy = 0
  let sxx = 0
  let syy = 0
  xs.forEach((x, i) => {
    const y = ys[i] ?? 0
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  })
  return sxy / Math.sqrt(sxx * syy)
}

function spread(xs: number[]): number {
  const m = mean(xs)
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)))
}

// Computed from the generator before the live feed existed (the history must not move under it).
const HISTORY_SHA256 = 'bfb7d9c6fe39cf436bb68e1b57e21ff7f77b78e4446a519830241c488cff9d69'
