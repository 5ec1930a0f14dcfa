import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'
import { Receiver } from './receiver.js'

// The recent window through the real job (store read, domain, incidents, records, alerts) and the dashboard's
// series, on a series 3 days old: the day window has no verdict yet (7 days needed), the recent window judges it.
// A series 10 days old whose whole last day doubled is the day window's: each stored record names its window.

const HOUR = 3_600_000
const END = Date.UTC(2026, 10, 25, 12)
let h: Harness
const webhook = new Receiver()

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
  await webhook.start()
  h = await openHarness(END + 30 * 60_000, {
    detection: { detector: { windows: ['day', 'recent'], recentThreshold: 5, recentHours: 48 } },
    alerts: { webhook: { url: webhook.url, secret: 'recent-window-webhook-secret' } },
  })
  // 'fresh' began 72 hours ago: 100 +- 10 an hour, then 1000 in the last hour. 'calm' the same without the spike.
  await h.meterflow.ingest(events('fresh', 72, (i) => (i === 71 ? 1000 : i % 2 ? 90 : 110)))
  await h.meterflow.ingest(events('calm', 72, (i) => (i % 2 ? 90 : 110)))
  // 'doubled' began 10 days ago at 100 +- 10 an hour; its last 24 hours run at twice that. The last hour is like the
  // 23 before it, so only the day window sees it.
  await h.meterflow.ingest(events('doubled', 240, (i) => (i >= 216 ? 2 : 1) * (i % 2 ? 90 : 110)))
  const res = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { slot: END } })
  expect(res.statusCode, res.body).toBe(200)
  await h.meterflow.alerts.deliver()
}, 120_000)
afterAll(async () => {
  await h?.close()
  await webhook.stop()
})

describe('the recent window in the job', () => {
  it('opens an incident on the third day of a series and stores the hour judged against the 48 before it', async () => {
    const incidents = (await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open' })).json().items
    expect(incidents.map((i: { customer_id: string }) => i.customer_id).sort()).toEqual(['doubled', 'fresh'])
    const [anomaly] = (await h.app.inject({ method: 'GET', url: '/v1/anomalies?customer_id=fresh' })).json()
      .items
    expect(anomaly).toMatchObject({
      kind: 'volume',
      current_value: 1000,
      severity: 'critical',
      direction: 'spike',
      window_kind: 'recent',
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

  it("stores the day window's detection as such: window_kind day, the 24 hours judged against previous days", async () => {
    const { items } = (await h.app.inject({ method: 'GET', url: '/v1/anomalies?customer_id=doubled' })).json()
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({
      kind: 'volume',
      current_value: 4800,
      direction: 'spike',
      window_kind: 'day',
      window: { start: new Date(END - 24 * HOUR).toISOString(), end: new Date(END).toISOString() },
    })
    // The 9 previous days, 2400 each.
    expect(items[0].samples).toBe(9)
    expect(items[0].baseline_mean).toBeCloseTo(2400, 9)
    // `calm` had nothing to store; every stored record names its window, and the schema lists the field.
    const all = (await h.app.inject({ method: 'GET', url: '/v1/anomalies' })).json().items
    expect(
      all.map((a: { customer_id: string; window_kind: string }) => [a.customer_id, a.window_kind]).sort(),
    ).toEqual([
      ['doubled', 'day'],
      ['fresh', 'recent'],
    ])
    const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const schema = openapi.paths['/v1/anomalies'].get.responses['200'].content['application/json'].schema
    expect(schema.properties.items.items.properties.window_kind).toMatchObject({
      type: ['string', 'null'],
      enum: ['day', 'hour', 'recent', null],
    })
  })

  it("alerts name the window that fired: the webhook's detection says recent or day", async () => {
    const sent = webhook.received.map(
      (r) => r.json as { data: { incident: { customer_id: string }; detection: { window_kind: string } } },
    )
    expect(sent.map((b) => [b.data.incident.customer_id, b.data.detection.window_kind]).sort()).toEqual([
      ['doubled', 'day'],
      ['fresh', 'recent'],
    ])
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
