import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemo, SHOWCASE } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { type Harness, openHarness } from './helpers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
const SLOTS = [END - 3 * HOUR, END - 2 * HOUR, END - HOUR, END]
let h: Harness

interface Point {
  slot: string
  value: number
  status: string
  baseline_mean: number
  baseline_stddev: number
  effective_stddev: number
  samples: number
  lower: number | null
  upper: number | null
  z_score: number | null
  anomaly: { window: string; z_score: number; severity: string } | null
}
interface StoredAnomaly {
  customer_id: string
  metric: string
  detected_at: string
  current_value: number
  baseline_mean: number
  baseline_stddev: number
  z_score: number
  severity: string
  window: { start: string; end: string }
}

beforeAll(async () => {
  h = await openHarness(END + 30 * 60_000)
  await loadDemo(generateDemo({ customers: 12, days: 35, seed: 7, endMs: END }), (batch) =>
    h.meterflow.ingest(batch),
  )
  for (const slot of SLOTS) {
    const res = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { slot } })
    expect(res.statusCode, res.body).toBe(200)
  }
})
afterAll(async () => {
  await h?.close()
})

const get = async (url: string) => h.app.inject({ method: 'GET', url })
const series = async (customer: string, metric: string, query = '') => {
  const res = await get(`/v1/customers/${encodeURIComponent(customer)}/series?metric=${metric}${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as { points: Point[]; window: string; threshold: number; [key: string]: unknown }
}
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12)

describe('GET /v1/customers/:id/series', () => {
  it('agrees with every anomaly the job stored: value, baseline, z and verdict', async () => {
    const stored: StoredAnomaly[] = (await get(`/v1/anomalies?since=${SLOTS[0]}&limit=1000`)).json().items
    expect(stored.length).toBeGreaterThanOrEqual(2)
    const pairs = new Set(stored.map((a) => `${a.customer_id}|${a.metric}`))
    expect(pairs).toContain(`${SHOWCASE.spike}|api_calls`)
    for (const pair of pairs) {
      const [customer, metric] = pair.split('|') as [string, string]
      const s = await series(customer, metric, `&since=${SLOTS[0]}&until=${END + HOUR}`)
      expect(s.points.map((p) => Date.parse(p.slot))).toEqual(SLOTS)
      for (const point of s.points) {
        const anomaly = stored.find(
          (a) => `${a.customer_id}|${a.metric}` === pair && a.detected_at === point.slot,
        )
        const label = `${pair} ${point.slot}`
        // The job stored an anomaly for this slot exactly when the series' verdict says so.
        expect(point.anomaly !== null, label).toBe(anomaly !== undefined)
        if (!anomaly || !point.anomaly) continue
        expect(relative(point.anomaly.z_score, anomaly.z_score), label).toBeLessThan(1e-9)
        expect(point.anomaly.severity, label).toBe(anomaly.severity)
        if (Date.parse(anomaly.window.end) - Date.parse(anomaly.window.start) === DAY) {
          expect(relative(point.value, anomaly.current_value), label).toBeLessThan(1e-9)
          expect(relative(point.baseline_mean, anomaly.baseline_mean), label).toBeLessThan(1e-9)
          expect(relative(point.baseline_stddev, anomaly.baseline_stddev), label).toBeLessThan(1e-9)
        }
      }
    }
  })

  it('draws the band at mean -/+ threshold x effective stddev, and the spike breaks out of it', async () => {
    const s = await series(SHOWCASE.spike, 'api_calls', `&since=${END - 2 * DAY}&until=${END + HOUR}`)
    expect(s.window).toBe('day')
    expect(s.points).toHaveLength(49)
    for (const p of s.points) {
      if (p.status !== 'ok') continue
      expect(p.upper).toBeCloseTo(p.baseline_mean + s.threshold * p.effective_stddev, 6)
      expect(p.lower).toBeCloseTo(p.baseline_mean - s.threshold * p.effective_stddev, 6)
      expect(p.z_score).toBeCloseTo((p.value - p.baseline_mean) / p.effective_stddev, 6)
    }
    const last = s.points[s.points.length - 1] as Point
    expect(last.value).toBeGreaterThan(last.upper as number)
    expect(last.anomaly).not.toBeNull()
  })

  it("draws an hour-only detector's band at its own hour threshold", async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: `/v1/customers/${encodeURIComponent(SHOWCASE.spike)}`,
      payload: { detector: { windows: ['hour'], hour_threshold: 6 } },
    })
    expect(put.statusCode, put.body).toBe(200)
    try {
      const s = await series(SHOWCASE.spike, 'api_calls', `&since=${END - DAY}&until=${END + HOUR}`)
      expect(s.window).toBe('hour')
      expect(s.threshold).toBe(6)
      const ok = s.points.filter((p) => p.status === 'ok')
      expect(ok.length).toBeGreaterThan(0)
      for (const p of ok) expect(p.upper).toBeCloseTo(p.baseline_mean + 6 * p.effective_stddev, 6)
    } finally {
      const reset = await h.app.inject({
        method: 'PUT',
        url: `/v1/customers/${encodeURIComponent(SHOWCASE.spike)}`,
        payload: { detector: null },
      })
      expect(reset.statusCode, reset.body).toBe(200)
    }
  })

  it('matches the on-demand check for a day window ending at a slot', async () => {
    const s = await series(SHOWCASE.drop, 'bandwidth', `&since=${END - 5 * HOUR}&until=${END - 4 * HOUR}`)
    expect(s.points).toHaveLength(1)
    const check = await h.meterflow.check({
      customerId: SHOWCASE.drop,
      metric: 'bandwidth',
      currentStartMs: END - 5 * HOUR - DAY,
      currentEndMs: END - 5 * HOUR,
      mode: 'volume',
    })
    if (!check.volume) throw new Error('a volume check has a volume verdict')
    const p = s.points[0] as Point
    expect(relative(p.value, check.volume.verdict.currentValue)).toBeLessThan(1e-9)
    expect(p.samples).toBe(check.volume.verdict.baseline.samples)
  })

  it('defaults to the 7 days up to the current hour and stops at the current hour', async () => {
    const s = await series(SHOWCASE.spike, 'api_calls')
    expect(s.points).toHaveLength(7 * 24)
    expect(s.points[s.points.length - 1]?.slot).toBe(new Date(END).toISOString())
  })

  it('answers a customer without usage with zeros and no verdict', async () => {
    const s = await series('nobody-here', 'api_calls', `&since=${END - HOUR}&until=${END + HOUR}`)
    expect(s.first_event_at).toBeNull()
    expect(
      s.points.every((p) => p.value === 0 && p.status === 'insufficient_data' && p.anomaly === null),
    ).toBe(true)
  })

  it('refuses hostile parameters with a 400 naming the field, and changes nothing', async () => {
    const cases: [string, string][] = [
      ['?since=0', 'metric'],
      ['?metric=api_callz', 'metric'],
      ['?metric=API', 'metric'],
      ['?metric=api_calls&since=yesterday', 'since'],
      ['?metric=api_calls&since=1e309', 'since'],
      ['?metric=api_calls&since=1999-12-31T00:00:00Z', 'since'],
      [`?metric=api_calls&since=${END}&until=${END - HOUR}`, 'since'],
      [`?metric=api_calls&since=${END - 31 * DAY}&until=${END}`, 'until'],
      [`?metric=api_calls&until=${END + 3 * HOUR}`, 'until'],
      [`?metric=api_calls&until=${'9'.repeat(80)}`, 'until'],
      ['?metric=api_calls&extra=1', 'extra'],
      ['?metric=api_calls&metric=bandwidth', 'metric'],
    ]
    for (const [query, field] of cases) {
      const res = await get(`/v1/customers/acme/series${query}`)
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400)
      const body = res.json()
      expect(body.error, query).toBe('validation_failed')
      expect(JSON.stringify(body.details), query).toContain(field)
    }
    const longId = await get(`/v1/customers/${'a'.repeat(129)}/series?metric=api_calls`)
    expect(longId.statusCode).toBe(400)
    const spaceId = await get('/v1/customers/a%20b/series?metric=api_calls')
    expect(spaceId.statusCode).toBe(400)
  })
})
