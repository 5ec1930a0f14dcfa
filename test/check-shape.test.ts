import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'
import { businessDays } from './shape-fixtures.js'

// GET /v1/anomalies/check?mode=volume|shape|combined against the real embedded engine (chDB): a customer whose day
// has the usual total at other hours (business hours -> 02:30-04:30 UTC) is caught by shape and missed by volume;
// a customer with the same pattern every day is not flagged. The job's shape is off (the default): the check
// evaluates shape anyway.

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** The last whole hour before now; the default shape window is [Nov 24 06:00, Nov 25 06:00) UTC. */
const SLOT = Date.UTC(2026, 10, 25, 6)
const NOW = SLOT + 25 * 60_000
const MOVED = 'check-moved'
const STEADY = 'check-steady'
let h: Harness

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON is walked field by field
type Json = Record<string, any>

beforeAll(async () => {
  h = await openHarness(NOW)
  const events = [...businessDays(MOVED, SLOT, 42, true), ...businessDays(STEADY, SLOT, 42, false)]
  for (let i = 0; i < events.length; i += 500) await h.meterflow.ingest(events.slice(i, i + 500))
}, 120_000)

afterAll(async () => {
  await h?.close()
})

const check = async (query: string, status = 200): Promise<Json> => {
  const res = await h.app.inject({ method: 'GET', url: `/v1/anomalies/check?${query}` })
  expect(res.statusCode, res.body).toBe(status)
  return res.json()
}

const SEED_FIELDS = [
  'customer_id',
  'metric',
  'aggregation',
  'status',
  'is_anomaly',
  'severity',
  'direction',
  'current_value',
  'z_score',
  'baseline',
  'current_window',
  'baseline_days',
  'threshold',
  'critical_threshold',
  'method',
]
const without = (body: Json, ...keys: string[]) =>
  Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)))

describe('the check in combined mode (the default)', () => {
  it('catches the moved day by shape while volume sees a normal total', async () => {
    expect(h.meterflow.config.detection.shape.enabled).toBe(false)
    const body = await check(`customer_id=${MOVED}&metric=api_calls`)
    expect(body).toMatchObject({
      mode: 'combined',
      status: 'ok',
      is_anomaly: true,
      fired: ['shape'],
      method: 'zscore',
      volume: { status: 'ok', is_anomaly: false, severity: null, direction: null },
      shape: {
        status: 'ok',
        is_anomaly: true,
        reason: null,
        window_basis: 'last_complete_hour',
        window: { start: new Date(SLOT - DAY).toISOString(), end: new Date(SLOT).toISOString() },
        variant: 'mean',
        threshold: 0.9,
        baseline_weeks: 4,
        configured_baseline_weeks: 4,
        baseline_profile_scale: 'current_total',
      },
    })
    // The top-level figures stay volume's: its window is the 24 hours up to now, its z-score small.
    expect(body.current_window).toEqual({
      start: new Date(NOW - DAY).toISOString(),
      end: new Date(NOW).toISOString(),
    })
    expect(Math.abs(body.z_score)).toBeLessThan(3)
    expect(body.z_score).toBe(body.volume.z_score)
    expect(body.severity).toBe(body.shape.severity)
    expect(body.direction).toBe(body.shape.direction)

    const { shape } = body
    expect(shape.similarity).toBeLessThan(0.9)
    expect(shape.similarity).toBe(shape.mean_similarity)
    expect(shape.nearest_similarity).toBeLessThan(0.9)
    expect([2, 3, 4]).toContain(shape.deviation_hour)
    expect(shape.profile).toHaveLength(24)
    expect(shape.baseline_profile).toHaveLength(24)
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
    expect(sum(shape.profile)).toBe(shape.current_total)
    expect(sum(shape.baseline_profile)).toBeCloseTo(shape.current_total, 6)
    // Index i is the hour [window start + i h): 02:30-04:30 are indexes 20-22 of a window starting at 06:00.
    expect(shape.profile.slice(20, 23).every((v: number) => v > 0)).toBe(true)
    expect(shape.profile.slice(3, 11).every((v: number) => v === 0)).toBe(true)
    expect(shape.baseline_profile.slice(3, 11).every((v: number) => v > 0)).toBe(true)
    expect(shape.baseline_windows).toHaveLength(4)
    expect(shape.baseline_windows[0]).toEqual({
      start: new Date(SLOT - 8 * DAY).toISOString(),
      end: new Date(SLOT - 7 * DAY).toISOString(),
    })
  })

  it('flags nothing on a normal day: the steady customer, and the moved customer a day earlier', async () => {
    const steady = await check(`customer_id=${STEADY}&metric=api_calls`)
    expect(steady).toMatchObject({ is_anomaly: false, fired: [], status: 'ok' })
    expect(steady.volume.status).toBe('ok')
    expect(steady.shape).toMatchObject({ status: 'ok', is_anomaly: false })
    expect(steady.shape.similarity).toBeGreaterThan(0.99)

    const end = new Date(SLOT - DAY).toISOString()
    const dayBefore = await check(`customer_id=${MOVED}&metric=api_calls&current_end=${end}`)
    expect(dayBefore).toMatchObject({ is_anomaly: false, fired: [], shape: { window_basis: 'requested' } })
    expect(dayBefore.shape.window.end).toBe(end)
  })

  it('reports shape as not evaluated, with the field and reason, for a window it cannot judge', async () => {
    const end = new Date(SLOT - 30 * 60_000).toISOString()
    const body = await check(`customer_id=${MOVED}&metric=api_calls&current_end=${end}`)
    expect(body.volume.status).toBe('ok')
    expect(body.shape).toMatchObject({
      status: 'not_evaluated',
      is_anomaly: false,
      reason: 'window_not_judgeable',
      field: 'current_end',
    })
    expect(body.shape.message).toMatch(/current_end must be a whole hour/)
    expect(body.fired).toEqual([])
  })

  it('says why shape has no verdict for a customer without usage', async () => {
    const body = await check('customer_id=nobody&metric=api_calls')
    expect(body).toMatchObject({ status: 'insufficient_data', is_anomaly: false, fired: [] })
    expect(body.shape).toMatchObject({
      status: 'insufficient_data',
      reason: 'empty_day',
      baseline_profile: null,
    })
    expect(body.shape.profile).toEqual(new Array(24).fill(0))
    expect(body.message).toMatch(/at least 7/)
  })
})

describe('the check in shape mode', () => {
  it('judges shape alone and fills the seed fields as shape alerts do', async () => {
    const body = await check(`customer_id=${MOVED}&metric=api_calls&mode=shape`)
    expect(Object.keys(body)).toEqual([...SEED_FIELDS, 'mode', 'fired', 'shape'])
    expect(body).toMatchObject({
      mode: 'shape',
      status: 'ok',
      is_anomaly: true,
      fired: ['shape'],
      method: 'shape',
      z_score: null,
      threshold: 0.9,
      baseline_days: 28,
      baseline: { samples: 4, min_samples: 2 },
      current_window: { start: new Date(SLOT - DAY).toISOString(), end: new Date(SLOT).toISOString() },
    })
    expect(body.current_value).toBe(body.shape.current_total)
    // The moved day's total is one of the usual ones.
    expect(Math.abs(body.current_value - body.baseline.mean)).toBeLessThan(3 * body.baseline.stddev + 1)
    expect(body.shape.similarity).toBeLessThan(0.9)

    const steady = await check(`customer_id=${STEADY}&metric=api_calls&mode=shape`)
    expect(steady).toMatchObject({ is_anomaly: false, fired: [], status: 'ok' })
  })

  it('refuses a window it cannot judge with a 400 naming the field and the reason', async () => {
    const cases: [string, string, RegExp][] = [
      [`current_end=${SLOT - 30 * 60_000}`, 'current_end', /whole hour/],
      [`current_start=${SLOT - 23 * HOUR}&current_end=${SLOT}`, 'current_start', /exactly 24 hours/],
      [`current_start=${SLOT - DAY}`, 'current_end', /required with current_start/],
      [`current_end=${SLOT + HOUR}`, 'current_end', /future/],
    ]
    for (const [window, field, reason] of cases) {
      const body = await check(`customer_id=${MOVED}&metric=api_calls&mode=shape&${window}`, 400)
      expect(body.error, window).toBe('validation_failed')
      expect(body.details, window).toEqual([{ field, reason: expect.stringMatching(reason) }])
    }
  })
})

describe('the check in volume mode', () => {
  it("keeps the seed's response and adds the volume verdict, without shape", async () => {
    const volume = await check(`customer_id=${MOVED}&metric=api_calls&mode=volume`)
    expect(Object.keys(volume)).toEqual([...SEED_FIELDS, 'mode', 'fired', 'volume'])
    expect(volume).toMatchObject({ mode: 'volume', is_anomaly: false, fired: [], method: 'zscore' })
    expect(volume.volume).toEqual({
      status: volume.status,
      is_anomaly: volume.is_anomaly,
      severity: volume.severity,
      direction: volume.direction,
      z_score: volume.z_score,
      current_value: volume.current_value,
      threshold: 3,
      critical_threshold: 5,
    })
    // Combined differs from it only in the verdict shape adds (and in carrying shape).
    const combined = await check(`customer_id=${MOVED}&metric=api_calls`)
    expect(without(combined, 'mode', 'fired', 'shape')).toEqual({
      ...without(volume, 'mode', 'fired'),
      is_anomaly: true,
      severity: combined.shape.severity,
      direction: combined.shape.direction,
    })
    // A volume check reads no profile, so a window shape cannot judge is no concern of it.
    const offHour = await check(`customer_id=${MOVED}&metric=api_calls&mode=volume&current_end=${SLOT - 1}`)
    expect(offHour.shape).toBeUndefined()
  })
})

describe('bad mode', () => {
  for (const mode of ['both', 'SHAPE', '']) {
    it(`rejects mode=${mode || '(empty)'} with a 400 naming mode`, async () => {
      const body = await check(`customer_id=${MOVED}&metric=api_calls&mode=${mode}`, 400)
      expect(body.details).toEqual([{ field: 'mode', reason: expect.stringMatching(/allowed values/) }])
    })
  }
})
