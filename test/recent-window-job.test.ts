import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

// The recent window through the real job (store read, domain, incidents, records) and the dashboard's series, on a
// series 3 days old: the day window has no verdict yet (7 days needed), the recent window judges it.

const HOUR = 3_600_000
const END = Date.UTC(2026, 10, 25, 12)
let h: Harness

/** `hours` hours of usage ending at END (one event an hour), `last` in the last hour. */
function events(customer: string, hours: number, value: (hour: number) => number) {
  return Array.from({ length: hours }, (_, i) => {
    const t = END - (hours - i) * HOUR
    return {
      event_id: `${customer}-${i}`,
      customer_id: customer,
      metric: 'api_calls',
      value: value(i),
      timestamp: t,
    }
  })
}

beforeAll(async () => {
  h = await openHarness(END + 30 * 60_000, {
    detection: { detector: { windows: ['day', 'recent'], recentThreshold: 5, recentHours: 48 } },
  })
  // 'fresh' began 72 hours ago: 100 +- 10 an hour, then 1000 in the last hour. 'calm' the same without the spike.
  await h.meterflow.ingest(events('fresh', 72, (i) => (i === 71 ? 1000 : i % 2 ? 90 : 110)))
  await h.meterflow.ingest(events('calm', 72, (i) => (i % 2 ? 90 : 110)))
  const res = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { slot: END } })
  expect(res.statusCode, res.body).toBe(200)
}, 120_000)
afterAll(async () => {
  await h?.close()
})

describe('the recent window in the job', () => {
  it('opens an incident on the third day of a series and stores the hour judged against the 48 before it', async () => {
    const incidents = (await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open' })).json().items
    expect(incidents.map((i: { customer_id: string }) => i.customer_id)).toEqual(['fresh'])
    const [anomaly] = (await h.app.inject({ method: 'GET', url: '/v1/anomalies?customer_id=fresh' })).json()
      .items
    expect(anomaly).toMatchObject({
      kind: 'volume',
      current_value: 1000,
      severity: 'critical',
      direction: 'spike',
    })
    expect(anomaly.window).toEqual({
      start: new Date(END - HOUR).toISOString(),
      end: new Date(END).toISOString(),
    })
    // The 48 hours before the last one: mean 100, stddev 10, z = 90.
    expect(anomaly.samples).toBe(48)
    expect(anomaly.baseline_mean).toBeCloseTo(100, 9)
    expect(anomaly.baseline_stddev).toBeCloseTo(10, 9)
    expect(anomaly.z_score).toBeCloseTo(90, 6)
  })

  it('shows the same verdict in the series, naming the recent window', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: `/v1/customers/fresh/series?metric=api_calls&since=${END - HOUR}&until=${END + HOUR}`,
    })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body.window).toBe('day')
    const point = body.points.find((p: { slot: string }) => Date.parse(p.slot) === END)
    expect(point.status).toBe('insufficient_data') // the plotted day window: 3 days of history
    expect(point.anomaly).toMatchObject({ window: 'recent', severity: 'critical', direction: 'spike' })
    expect(point.anomaly.z_score).toBeCloseTo(90, 6)
  })
})
