import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'
import { type Received, Receiver } from './receiver.js'

// Issue 11's "Must show", through the real job (chDB + SQLite), API and a local webhook receiver: a customer whose
// daily total is normal but whose hours moved (business hours -> 3 a.m. on the last day, six weeks of history) is
// caught by shape and missed by volume; a customer with the same pattern every day is not flagged.

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** The run's slot: the window is [Nov 24 06:00, Nov 25 06:00) UTC, so its last hour is quiet on every day. */
const SLOT = Date.UTC(2026, 10, 25, 6)
const DAYS = 42
const MOVED = 'shape-moved'
const STEADY = 'shape-steady'
const SECRET = 'shape-webhook-secret-0123456789'
const webhook = new Receiver()
let h: Harness

// biome-ignore lint/suspicious/noExplicitAny: the API's and the receiver's JSON are walked field by field
type Json = Record<string, any>

/** Business hours 09-17 UTC, about 100 an hour with a small deterministic wobble (so volume's stddev is not 0). */
const businessHour = (day: number, hour: number) =>
  hour >= 9 && hour < 17 ? 100 + ((day * 7 + hour * 3) % 11) - 5 : 0

function events(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  // Day d covers [SLOT - (d + 1) days, SLOT - d days); d = 0 is the run's window.
  for (let d = 0; d < DAYS; d++) {
    const start = SLOT - (d + 1) * DAY
    for (let i = 0; i < 24; i++) {
      const t = start + i * HOUR
      const hour = new Date(t).getUTCHours()
      const normal = businessHour(d, hour)
      if (normal > 0)
        out.push({
          event_id: `s-${d}-${i}`,
          customer_id: STEADY,
          metric: 'api_calls',
          value: normal,
          timestamp: t,
        })
      if (d > 0 && normal > 0)
        out.push({
          event_id: `m-${d}-${i}`,
          customer_id: MOVED,
          metric: 'api_calls',
          value: normal,
          timestamp: t,
        })
    }
    if (d === 0) {
      // The same day's total, all of it between 02:00 and 05:00 UTC.
      let total = 0
      for (let hour = 0; hour < 24; hour++) total += businessHour(0, hour)
      const third = Math.floor(total / 3)
      const at = (hour: number) => Date.UTC(2026, 10, 25, hour, 30)
      const parts = [third, third, total - 2 * third]
      parts.forEach((value, k) => {
        out.push({
          event_id: `m-0-${k}`,
          customer_id: MOVED,
          metric: 'api_calls',
          value,
          timestamp: at(2 + k),
        })
      })
    }
  }
  return out
}

beforeAll(async () => {
  await webhook.start()
  h = await openHarness(SLOT, {
    detection: { shape: { enabled: true } },
    // One customer per chunk: two chunks of windows, each with its series' profiles.
    job: { schedulerEnabled: false, customersPerChunk: 1 },
    alerts: { webhook: { url: webhook.url, secret: SECRET } },
  })
  const all = events()
  for (let i = 0; i < all.length; i += 500) await h.meterflow.ingest(all.slice(i, i + 500))
}, 120_000)

afterAll(async () => {
  await h?.close()
  await webhook.stop()
})

const get = async (url: string): Promise<Json> => {
  const res = await h.app.inject({ method: 'GET', url })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

describe('the shape signal in the job', () => {
  let run: Json
  const profileRequests: unknown[] = []
  const windowReads: unknown[] = []

  beforeAll(async () => {
    // Counts the real store's reads (it still answers them).
    const usage = h.meterflow.usage
    const shapeProfiles = usage.shapeProfiles.bind(usage)
    usage.shapeProfiles = (slot, weeks, metrics, range) => {
      profileRequests.push({ weeks, range })
      return shapeProfiles(slot, weeks, metrics, range)
    }
    const seriesWindows = usage.seriesWindows.bind(usage)
    usage.seriesWindows = (slot, days, metrics, range, reads) => {
      windowReads.push({ range, shapeWeeks: reads?.shapeWeeks })
      return seriesWindows(slot, days, metrics, range, reads)
    }
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { slot: new Date(SLOT).toISOString() },
    })
    expect(res.statusCode, res.body).toBe(200)
    run = res.json()
    await h.meterflow.alerts.deliver()
  }, 120_000)

  it('reads the profiles in the windows scan (one read for both signals), never per series or chunk', () => {
    expect(windowReads).toEqual([{ range: { from: '', to: '' }, shapeWeeks: 4 }])
    expect(profileRequests).toEqual([])
  })

  it('stores a shape record for the moved day and no volume record (its total is normal)', async () => {
    expect(run.checked).toBe(2)
    const page = await get(`/v1/anomalies?customer_id=${MOVED}`)
    expect(page.items).toHaveLength(1)
    const [record] = page.items
    expect(record).toMatchObject({
      kind: 'shape',
      customer_id: MOVED,
      metric: 'api_calls',
      shape_threshold: 0.9,
      baseline_weeks: 4,
      window: { start: new Date(SLOT - DAY).toISOString(), end: new Date(SLOT).toISOString() },
      severity: 'critical',
      direction: 'spike',
    })
    expect(record.shape_similarity).toBeLessThan(0.9)
    // Disjoint hours: nothing in common with the baseline days.
    expect(record.shape_similarity).toBeCloseTo(0, 6)
    expect([2, 3, 4]).toContain(record.deviation_hour)
    expect(record.z_score).toBeUndefined()
    expect((await get(`/v1/anomalies?customer_id=${MOVED}&kind=volume`)).items).toEqual([])
  })

  it('opens one incident opened by shape, with shape firing', async () => {
    const page = await get(`/v1/incidents?customer_id=${MOVED}`)
    expect(page.items).toHaveLength(1)
    expect(page.items[0]).toMatchObject({
      customer_id: MOVED,
      metric: 'api_calls',
      status: 'open',
      severity: 'critical',
      opened_by_signal: 'shape',
      firing_signals: ['shape'],
    })
    const [record] = (await get(`/v1/anomalies?customer_id=${MOVED}`)).items
    expect(record.incident_id).toBe(page.items[0].id)
  })

  it('sends one webhook alert whose detection names the signal and quotes the similarity and threshold', () => {
    const bodies = webhook.received.map((r: Received) => r.json as Json)
    expect(bodies).toHaveLength(1)
    const body = bodies[0] as Json
    expect(body.data.incident).toMatchObject({
      customer_id: MOVED,
      opened_by_signal: 'shape',
      firing_signals: ['shape'],
    })
    expect(body.data.detection.signal).toBe('shape')
    expect(body.data.detection.shape_similarity).toBeLessThan(0.9)
    expect(body.data.detection.shape_threshold).toBe(0.9)
    expect(body.data.detection.z_score).toBeNull()
    // The day's total against the baseline days' totals: normal, which is why volume said nothing.
    expect(body.data.detection.current_value).toBeGreaterThan(0.9 * body.data.detection.baseline_mean)
    expect(body.data.detection.current_value).toBeLessThan(1.1 * body.data.detection.baseline_mean)
  })

  it('flags nothing for the customer whose day looks like its previous weeks', async () => {
    expect((await get(`/v1/anomalies?customer_id=${STEADY}`)).items).toEqual([])
    expect((await get(`/v1/incidents?customer_id=${STEADY}`)).items).toEqual([])
  })
})
