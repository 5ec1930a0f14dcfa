import { describe, expect, it } from 'vitest'
import type { UsageEvent } from '../domain/events.js'
import { SEED_METRICS } from '../domain/metrics.js'
import { DAY_MS, HOUR_MS } from '../domain/time.js'
import {
  ANOMALY_KINDS,
  customerSeries,
  DEMO_METRICS,
  type DemoDataset,
  type DemoOptions,
  generateDemo,
  rotateDay,
  SHOWCASE,
} from './generator.js'

// Deliberately not midnight-aligned so partial first/last UTC days are exercised.
const END_MS = Date.UTC(2025, 5, 15, 13)
const OPTIONS: DemoOptions = { customers: 120, days: 35, seed: 42, endMs: END_MS }
const RANGE_START = END_MS - OPTIONS.days * DAY_MS
const dataset = generateDemo(OPTIONS)

function collect(d: DemoDataset, batchSize?: number): UsageEvent[] {
  const out: UsageEvent[] = []
  for (const batch of d.batches(batchSize)) for (const e of batch) out.push(e)
  return out
}

const events = collect(dataset)

function customer(id: string) {
  const c = dataset.customers.find((x) => x.customerId === id)
  if (!c) throw new Error(`missing customer ${id}`)
  return c
}

const sumRange = (a: Float64Array, from: number, to: number) =>
  a.subarray(from, to).reduce((s, v) => s + v, 0)

describe('generateDemo: determinism', () => {
  it('gives identical customers, labels and events for the same options', () => {
    const again = generateDemo({ ...OPTIONS })
    expect(again.customers).toEqual(dataset.customers)
    expect(again.labels).toEqual(dataset.labels)
    expect(again.totalEvents).toBe(dataset.totalEvents)
    const replay = collect(again)
    expect(replay.length).toBe(events.length)
    expect(replay.every((e, i) => JSON.stringify(e) === JSON.stringify(events[i]))).toBe(true)
  })

  it('replays the same events when batches() is iterated twice', () => {
    const small = generateDemo({ ...OPTIONS, customers: 6 })
    expect(collect(small, 333)).toEqual(collect(small))
  })

  it('differs for a different seed', () => {
    const other = generateDemo({ ...OPTIONS, seed: 43 })
    expect(other.labels).not.toEqual(dataset.labels)
    const otherValues = collect(other).map((e) => e.value)
    expect(otherValues).not.toEqual(events.map((e) => e.value))
  })

  it("keeps a customer's data independent of how many customers follow it", () => {
    const few = generateDemo({ ...OPTIONS, customers: 10 })
    expect(customerSeries(few, 'cust-0003')).toEqual(customerSeries(dataset, 'cust-0003'))
    expect(few.labels).toEqual(
      dataset.labels.filter((l) => few.customers.some((c) => c.customerId === l.customer_id)),
    )
  })
})

describe('generateDemo: streaming', () => {
  it('yields exactly totalEvents events in batches no larger than the batch size', () => {
    for (const size of [997, 10_000]) {
      const sizes = [...dataset.batches(size)].map((b) => b.length)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(dataset.totalEvents)
      expect(sizes.every((n) => n <= size && n > 0)).toBe(true)
      expect(sizes.slice(0, -1).every((n) => n === size)).toBe(true)
    }
    expect(events.length).toBe(dataset.totalEvents)
  })

  it('rejects a batch size that is not a positive integer when called', () => {
    expect(() => dataset.batches(0)).toThrow(RangeError)
    expect(() => dataset.batches(2.5)).toThrow(RangeError)
  })

  it('plans a 33M-event dataset without generating it and streams its first batch at once', () => {
    const started = performance.now()
    const huge = generateDemo({ customers: 10_000, days: 35, seed: 1, endMs: END_MS })
    const first = huge.batches().next()
    expect(first.done).toBe(false)
    expect(first.value).toHaveLength(10_000)
    expect(huge.totalEvents).toBeGreaterThan(30_000_000)
    expect(huge.totalEvents).toBeLessThanOrEqual(10_000 * 35 * 24 * 4)
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})

describe('generateDemo: events', () => {
  const metricNames = new Set(SEED_METRICS.map((m) => m.name))
  const firstHour = new Map(dataset.customers.map((c) => [c.customerId, c.firstHourMs]))

  it('are finite, non-negative, hour-aligned and inside the range and the customer history', () => {
    for (const e of events) {
      const ok =
        Number.isFinite(e.value) &&
        e.value >= 0 &&
        e.timestampMs % HOUR_MS === 0 &&
        e.timestampMs >= (firstHour.get(e.customerId) ?? Number.POSITIVE_INFINITY) &&
        e.timestampMs >= RANGE_START &&
        e.timestampMs < END_MS &&
        metricNames.has(e.metric)
      if (!ok) throw new Error(`invalid event ${JSON.stringify(e)}`)
    }
  })

  it('have unique, deterministic event ids', () => {
    const ids = new Set(events.map((e) => e.eventId))
    expect(ids.size).toBe(events.length)
    for (const e of events.slice(0, 50)) {
      expect(e.eventId).toBe(`demo-42-${e.customerId}-${e.metric}-${e.timestampMs}`)
    }
  })

  it('cover every metric of every customer for every hour from its first hour', () => {
    const counts = new Map<string, number>()
    for (const e of events) counts.set(e.customerId, (counts.get(e.customerId) ?? 0) + 1)
    for (const c of dataset.customers) {
      expect(counts.get(c.customerId)).toBe(((END_MS - c.firstHourMs) / HOUR_MS) * DEMO_METRICS.length)
    }
  })

  it('look like usage: counts in whole numbers, calls roughly 10..100k/h, 2-50 KB per call, GBs stored', () => {
    for (const c of dataset.customers) {
      const { values } = customerSeries(dataset, c.customerId, { anomalies: false })
      expect(values.api_calls.every(Number.isInteger)).toBe(true)
      expect(values.bandwidth.every(Number.isInteger)).toBe(true)
      const meanCalls = sumRange(values.api_calls, 0, values.api_calls.length) / values.api_calls.length
      expect(meanCalls).toBeGreaterThan(1)
      expect(meanCalls).toBeLessThan(200_000)
      const bytesPerCall = sumRange(values.bandwidth, 0, 1e9) / sumRange(values.api_calls, 0, 1e9)
      expect(bytesPerCall).toBeGreaterThan(1.8 * 1024)
      expect(bytesPerCall).toBeLessThan(55 * 1024)
      expect(Math.min(...values.storage_peak)).toBeGreaterThan(5e8)
    }
  })
})

describe('generateDemo: customers', () => {
  it('has the showcase customers first, then cust-0001...', () => {
    const ids = dataset.customers.map((c) => c.customerId)
    expect(ids.slice(0, 4)).toEqual(Object.values(SHOWCASE))
    expect(ids[4]).toBe('cust-0001')
    expect(ids).toHaveLength(OPTIONS.customers)
    expect(new Set(ids).size).toBe(ids.length)
    expect(dataset.customers.filter((c) => c.showcase).map((c) => c.customerId)).toEqual(
      Object.values(SHOWCASE),
    )
  })

  it('keeps only the first N showcase customers when fewer than four are asked for', () => {
    expect(generateDemo({ ...OPTIONS, customers: 2 }).customers.map((c) => c.customerId)).toEqual([
      'acme-corp',
      'globex',
    ])
    const empty = generateDemo({ ...OPTIONS, customers: 0 })
    expect(empty.totalEvents).toBe(0)
    expect([...empty.batches()]).toEqual([])
  })

  it('starts about 10% of customers late, between 3 and 15 days into the range', () => {
    const many = generateDemo({ ...OPTIONS, customers: 1000 })
    const late = many.customers.filter((c) => !c.showcase && c.firstHourMs > RANGE_START)
    expect(late.length).toBeGreaterThan(60)
    expect(late.length).toBeLessThan(140)
    for (const c of late) {
      expect(c.firstHourMs - RANGE_START).toBeGreaterThanOrEqual(3 * DAY_MS)
      expect(c.firstHourMs - RANGE_START).toBeLessThan(15 * DAY_MS)
    }
  })

  it('rejects invalid options', () => {
    expect(() => generateDemo({ ...OPTIONS, endMs: END_MS + 1 })).toThrow(RangeError)
    expect(() => generateDemo({ ...OPTIONS, days: 0 })).toThrow(RangeError)
    expect(() => generateDemo({ ...OPTIONS, customers: -1 })).toThrow(RangeError)
    expect(() => generateDemo({ ...OPTIONS, seed: 2 ** 32 })).toThrow(RangeError)
  })
})

describe('generateDemo: showcase', () => {
  it('acme-corp: api_calls x6 in [end-8h, end-2h) and nowhere else', () => {
    const clean = customerSeries(dataset, SHOWCASE.spike, { anomalies: false }).values.api_calls
    const actual = customerSeries(dataset, SHOWCASE.spike).values.api_calls
    const n = actual.length
    for (let i = 0; i < n; i++) {
      const inSpike = i >= n - 8 && i < n - 2
      expect(Math.abs((actual[i] ?? 0) - (clean[i] ?? 0) * (inSpike ? 6 : 1))).toBeLessThanOrEqual(0.5)
    }
    expect(dataset.labels.find((l) => l.customer_id === SHOWCASE.spike)).toMatchObject({
      metric: 'api_calls',
      kind: 'spike',
      start: new Date(END_MS - 8 * HOUR_MS).toISOString(),
      end: new Date(END_MS - 2 * HOUR_MS).toISOString(),
      magnitude: 6,
    })
  })

  it('globex: bandwidth is 0 for exactly the last 30 hours', () => {
    const bandwidth = events.filter((e) => e.customerId === SHOWCASE.drop && e.metric === 'bandwidth')
    const cut = END_MS - 30 * HOUR_MS
    expect(bandwidth.filter((e) => e.timestampMs >= cut).map((e) => e.value)).toEqual(new Array(30).fill(0))
    expect(bandwidth.filter((e) => e.timestampMs < cut).every((e) => e.value > 0)).toBe(true)
    const label = dataset.labels.find((l) => l.customer_id === SHOWCASE.drop)
    expect(label).toMatchObject({ metric: 'bandwidth', kind: 'drop_to_zero', magnitude: 0 })
    expect([label?.start, label?.end]).toEqual([new Date(cut).toISOString(), new Date(END_MS).toISOString()])
  })

  it('initech: exactly the last 3 days of events and no anomaly', () => {
    const own = events.filter((e) => e.customerId === SHOWCASE.newCustomer)
    expect(own).toHaveLength(3 * 24 * DEMO_METRICS.length)
    expect(Math.min(...own.map((e) => e.timestampMs))).toBe(END_MS - 3 * DAY_MS)
    expect(customer(SHOWCASE.newCustomer).firstHourMs).toBe(END_MS - 3 * DAY_MS)
    expect(dataset.labels.some((l) => l.customer_id === SHOWCASE.newCustomer)).toBe(false)
  })

  it('umbrella: b2b, weekends far quieter than weekdays, no anomaly', () => {
    expect(customer(SHOWCASE.quietWeekends).segment).toBe('b2b')
    const byDay = new Map<number, number>()
    for (const e of events) {
      if (e.customerId !== SHOWCASE.quietWeekends || e.metric !== 'api_calls') continue
      const day = Math.floor(e.timestampMs / DAY_MS)
      byDay.set(day, (byDay.get(day) ?? 0) + e.value)
    }
    const weekend: number[] = []
    const weekday: number[] = []
    for (const [day, total] of byDay) {
      if (day * DAY_MS < RANGE_START || (day + 1) * DAY_MS > END_MS) continue // partial days
      const dow = new Date(day * DAY_MS).getUTCDay()
      ;(dow === 0 || dow === 6 ? weekend : weekday).push(total)
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(weekend.length).toBeGreaterThanOrEqual(8)
    expect(mean(weekend)).toBeLessThan(0.2 * mean(weekday))
    expect(dataset.labels.some((l) => l.customer_id === SHOWCASE.quietWeekends)).toBe(false)
  })
})

describe('generateDemo: labels', () => {
  const random = dataset.labels.filter((l) => !customer(l.customer_id).showcase)

  it('label roughly 30% of the random customers and use every kind', () => {
    expect(random.length).toBeGreaterThan(0.15 * (OPTIONS.customers - 4))
    expect(random.length).toBeLessThan(0.45 * (OPTIONS.customers - 4))
    expect(new Set(random.map((l) => l.kind))).toEqual(new Set(ANOMALY_KINDS))
    expect(new Set(dataset.labels.map((l) => l.id)).size).toBe(dataset.labels.length)
  })

  it('lie inside the range, after 8 days of customer history; random ones in the second half', () => {
    for (const l of dataset.labels) {
      const start = Date.parse(l.start)
      const end = Date.parse(l.end)
      expect(start % HOUR_MS).toBe(0)
      expect(start).toBeLessThan(end)
      expect(end).toBeLessThanOrEqual(END_MS)
      expect(start).toBeGreaterThanOrEqual(customer(l.customer_id).firstHourMs + 8 * DAY_MS)
    }
    for (const l of random) expect(Date.parse(l.start)).toBeGreaterThanOrEqual(RANGE_START + 17.5 * DAY_MS)
  })

  it('match what was injected, and nothing is injected without a label', () => {
    const labelled = new Map(dataset.labels.map((l) => [l.customer_id, l]))
    for (const c of dataset.customers) {
      const clean = customerSeries(dataset, c.customerId, { anomalies: false })
      const actual = customerSeries(dataset, c.customerId)
      const label = labelled.get(c.customerId)
      for (const metric of DEMO_METRICS) {
        if (metric !== label?.metric) expect(actual.values[metric]).toEqual(clean.values[metric])
      }
      if (!label) continue
      const a = actual.values[label.metric as (typeof DEMO_METRICS)[number]]
      const b = clean.values[label.metric as (typeof DEMO_METRICS)[number]]
      const from = (Date.parse(label.start) - c.firstHourMs) / HOUR_MS
      const to = (Date.parse(label.end) - c.firstHourMs) / HOUR_MS
      expect(a.subarray(0, from)).toEqual(b.subarray(0, from))
      const near = (i: number, factor: number) =>
        expect(Math.abs((a[i] ?? 0) - (b[i] ?? 0) * factor)).toBeLessThanOrEqual(0.5)
      for (let i = from; i < to; i++) {
        if (label.kind === 'spike' || label.kind === 'level_shift') near(i, label.magnitude)
        if (label.kind === 'drop_to_zero') expect(a[i]).toBe(0)
      }
      if (label.kind === 'ramp') {
        near(to - 1, label.magnitude)
        expect(Math.abs((a[from] ?? 0) - (b[from] ?? 0))).toBeLessThan(0.05 * (b[from] ?? 0) + 1)
      }
      if (label.kind === 'level_shift') for (let i = to; i < a.length; i++) near(i, label.magnitude)
      if (label.kind === 'shape_shift') {
        expect((to - from) % 24).toBe(0)
        expect(Date.parse(label.start) % DAY_MS).toBe(0)
        for (let d = from; d < to; d += 24) {
          const shifted = sumRange(a, d, d + 24)
          expect(Math.abs(shifted - sumRange(b, d, d + 24))).toBeLessThanOrEqual(0.01 * shifted)
          expect(a.subarray(d, d + 24)).not.toEqual(b.subarray(d, d + 24))
        }
        expect(a.subarray(to)).toEqual(b.subarray(to))
      }
      if (label.kind === 'spike' || label.kind === 'drop_to_zero')
        expect(a.subarray(to)).toEqual(b.subarray(to))
    }
  })
})

describe('rotateDay', () => {
  it("moves hour h's activity to h + shift and keeps the day's total", () => {
    const day = Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 18 ? 100 + h : 5))
    const night = rotateDay(day, 12)
    expect(night[21]).toBe(day[9])
    expect(night[9]).toBe(5)
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    expect(Math.abs(total(night) - total(day))).toBeLessThanOrEqual(0.01 * total(day))
    expect(rotateDay(day, -12)).toEqual(night)
    expect(rotateDay(day, 24)).toEqual(day)
  })
})
