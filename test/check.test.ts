import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemo, SHOWCASE } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { type Harness, openHarness } from './helpers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
let h: Harness

beforeAll(async () => {
  h = await openHarness(END)
  const dataset = generateDemo({ customers: 12, days: 35, seed: 7, endMs: END })
  await loadDemo(dataset, (batch) => h.meterflow.ingest(batch))
})
afterAll(async () => {
  await h?.close()
})

const check = (query: string) => h.app.inject({ method: 'GET', url: `/v1/anomalies/check?${query}` })

describe('GET /v1/anomalies/check on demo data', () => {
  it('finds the injected spike', async () => {
    const res = await check(`customer_id=${SHOWCASE.spike}&metric=api_calls`)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({
      status: 'ok',
      is_anomaly: true,
      direction: 'spike',
      baseline: { samples: 30 },
    })
    expect(body.z_score).toBeGreaterThan(3)
    expect(body.current_window).toEqual({
      start: new Date(END - DAY).toISOString(),
      end: new Date(END).toISOString(),
    })
  })

  it('finds the injected drop to zero and calls it critical', async () => {
    const body = (await check(`customer_id=${SHOWCASE.drop}&metric=bandwidth`)).json()
    expect(body).toMatchObject({
      is_anomaly: true,
      direction: 'drop',
      severity: 'critical',
      current_value: 0,
    })
    expect(body.baseline.mean).toBeGreaterThan(0)
  })

  it('says insufficient_data for a customer with 3 days of history', async () => {
    const body = (await check(`customer_id=${SHOWCASE.newCustomer}&metric=api_calls`)).json()
    expect(body).toMatchObject({
      status: 'insufficient_data',
      is_anomaly: false,
      z_score: null,
      severity: null,
    })
    expect(body.baseline.samples).toBeLessThan(7)
    expect(body.message).toMatch(/at least 7/)
  })

  it('sees nothing unusual for a steady customer, weekends included', async () => {
    const body = (await check(`customer_id=${SHOWCASE.quietWeekends}&metric=api_calls`)).json()
    expect(body.status).toBe('ok')
    expect(body.is_anomaly).toBe(false)
  })

  it('finds the spike with a 1-hour window against the same hour on previous days', async () => {
    const start = new Date(END - 4 * HOUR).toISOString()
    const end = new Date(END - 3 * HOUR).toISOString()
    const body = (
      await check(`customer_id=${SHOWCASE.spike}&metric=api_calls&current_start=${start}&current_end=${end}`)
    ).json()
    expect(body).toMatchObject({ is_anomaly: true, direction: 'spike', baseline: { samples: 30 } })
  })

  it('excludes the anomaly window from its own baseline', async () => {
    const body = (await check(`customer_id=${SHOWCASE.spike}&metric=api_calls&baseline_days=7`)).json()
    expect(body.baseline.samples).toBe(7)
    expect(new Date(body.baseline.window.end).getTime()).toBeLessThanOrEqual(END - DAY)
  })
})

describe('sum vs gauge and unaligned windows', () => {
  const T = Date.UTC(2026, 9, 1)
  beforeAll(async () => {
    const events = []
    for (let day = 0; day < 10; day++) {
      for (const [minute, value] of [
        [5, 10],
        [35, 30],
      ] as const) {
        const timestamp = T + day * DAY + minute * 60_000
        events.push({ customer_id: 'g1', metric: 'storage_peak', value: value + day, timestamp })
        events.push({ customer_id: 'g1', metric: 'api_calls', value: value + day, timestamp })
      }
    }
    expect((await h.app.inject({ method: 'POST', url: '/v1/events', payload: events })).statusCode).toBe(200)
  })

  it('sums a counter and takes the peak of a gauge over the same window', async () => {
    const window = `current_start=${T + 9 * DAY}&current_end=${T + 9 * DAY + HOUR}`
    const counter = (await check(`customer_id=g1&metric=api_calls&${window}`)).json()
    const gauge = (await check(`customer_id=g1&metric=storage_peak&${window}`)).json()
    expect(counter.current_value).toBe(19 + 39)
    expect(gauge.current_value).toBe(39)
    expect(counter.baseline.samples).toBe(9)
    expect(gauge.baseline.mean).toBe(30 + 4)
  })

  it('answers a window that does not fall on the hour from raw events', async () => {
    const start = T + 9 * DAY + 30 * 60_000
    const body = (
      await check(`customer_id=g1&metric=api_calls&current_start=${start}&current_end=${start + HOUR}`)
    ).json()
    // [hh:30, hh+1:30) holds only the :35 event of each day
    expect(body.current_value).toBe(39)
    expect(body.baseline.mean).toBe(34)
  })
})

describe('bad check requests', () => {
  const cases: [string, string, string][] = [
    ['an unknown metric', 'customer_id=a&metric=gpu', 'metric'],
    ['a bad timestamp', 'customer_id=a&metric=api_calls&current_end=tomorrow', 'current_end'],
    [
      'start after end',
      `customer_id=a&metric=api_calls&current_start=${END}&current_end=${END - HOUR}`,
      'current_start',
    ],
    [
      'start equal to end',
      `customer_id=a&metric=api_calls&current_start=${END}&current_end=${END}`,
      'current_start',
    ],
    ['baseline_days 0', 'customer_id=a&metric=api_calls&baseline_days=0', 'baseline_days'],
    ['baseline_days 366', 'customer_id=a&metric=api_calls&baseline_days=366', 'baseline_days'],
    ['threshold 0', 'customer_id=a&metric=api_calls&threshold=0', 'threshold'],
    ['threshold negative', 'customer_id=a&metric=api_calls&threshold=-2', 'threshold'],
    ['a missing customer', 'metric=api_calls', 'customer_id'],
    [
      'critical below threshold',
      'customer_id=a&metric=api_calls&threshold=4&critical_threshold=3',
      'critical_threshold',
    ],
  ]
  for (const [name, query, field] of cases) {
    it(`rejects ${name} with 400 naming ${field}`, async () => {
      const res = await check(query)
      expect(res.statusCode).toBe(400)
      const body = res.json()
      expect(body.error).toBe('validation_failed')
      expect(body.details.map((d: { field: string }) => d.field)).toContain(field)
      expect(body.message.length).toBeGreaterThan(10)
    })
  }
})
