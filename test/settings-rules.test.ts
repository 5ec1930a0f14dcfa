import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

// The rules the write routes for customer settings and mutes apply (in their use cases), against the real stores.

const NOW = Date.UTC(2026, 10, 25, 12, 30)
let h: Harness

beforeAll(async () => {
  // The configured defaults the effective thresholds fall back to.
  h = await openHarness(NOW, { detection: { threshold: 3, criticalThreshold: 5 } })
})
afterAll(async () => {
  await h?.close()
})

const put = (id: string, payload: object) =>
  h.app.inject({ method: 'PUT', url: `/v1/customers/${id}`, payload })
const customer = async (id: string) =>
  (await h.app.inject({ method: 'GET', url: `/v1/customers/${id}` })).json()

describe('PUT /v1/customers/:id thresholds', () => {
  it('refuses a critical threshold below the configured default threshold, as the check does', async () => {
    const res = await put('crit-co', { critical_threshold: 1 })
    expect(res.statusCode).toBe(400)
    expect(res.json().details).toEqual([
      {
        field: 'critical_threshold',
        reason: 'must be >= the effective threshold (3, the configured default)',
      },
    ])
    expect(await customer('crit-co')).toMatchObject({ registered: false, critical_threshold: null })
    // The same pair on the check route.
    const check = await h.app.inject({
      method: 'GET',
      url: '/v1/anomalies/check?customer_id=crit-co&metric=api_calls&critical_threshold=1',
    })
    expect(check.statusCode).toBe(400)
    expect(check.json().details[0].field).toBe('critical_threshold')
  })

  it("compares with the customer's own threshold when it has one, and accepts an equal or higher critical", async () => {
    expect((await put('own-co', { threshold: 2, critical_threshold: 2 })).statusCode).toBe(200)
    expect((await put('own-co', { critical_threshold: 2.5 })).statusCode).toBe(200)
    const below = await put('own-co', { critical_threshold: 1.5 })
    expect(below.statusCode).toBe(400)
    expect(below.json().details).toEqual([
      {
        field: 'critical_threshold',
        reason: "must be >= the effective threshold (2, the customer's override)",
      },
    ])
    expect(await customer('own-co')).toMatchObject({ threshold: 2, critical_threshold: 2.5 })
  })

  it('names threshold when only the threshold moves past the critical override (clearing it too)', async () => {
    expect((await put('move-co', { threshold: 2, critical_threshold: 2.5 })).statusCode).toBe(200)
    for (const payload of [{ threshold: 4 }, { threshold: null }]) {
      const res = await put('move-co', payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().details.map((d: { field: string }) => d.field)).toEqual(['threshold'])
      expect(res.json().details[0].reason).toMatch(/must be <= critical_threshold \(2\.5/)
    }
    expect(await customer('move-co')).toMatchObject({ threshold: 2, critical_threshold: 2.5 })
    // Both at once, consistent: fine.
    expect((await put('move-co', { threshold: 4, critical_threshold: 6 })).statusCode).toBe(200)
  })

  it('takes a threshold above the default critical one when no critical override is set (it is lifted)', async () => {
    const res = await put('high-co', { threshold: 6 })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ threshold: 6, critical_threshold: null })
  })
})

describe('POST /v1/mutes targets', () => {
  const mute = (payload: object) => h.app.inject({ method: 'POST', url: '/v1/mutes', payload })
  const activeMutes = () => h.meterflow.anomalies.alerts.activeMutes(h.clock.now())

  it('refuses an unknown metric, listing the registered ones, and stores nothing', async () => {
    const before = await activeMutes()
    const res = await mute({ metric: 'nosuchmetric', minutes: 5 })
    expect(res.statusCode).toBe(400)
    const [detail, ...rest] = res.json().details
    expect(rest).toEqual([])
    expect(detail.field).toBe('metric')
    expect(detail.reason).toMatch(/^unknown metric 'nosuchmetric'; registered: .*api_calls.*storage_peak/)
    // With a customer too: the metric still has to exist.
    expect((await mute({ customer_id: 'acme', metric: 'nosuchmetric', minutes: 5 })).statusCode).toBe(400)
    expect(await activeMutes()).toEqual(before)
  })

  it('reports a bad end and an unknown metric together', async () => {
    const res = await mute({ metric: 'nosuchmetric', until: '2026-01-01T00:00:00Z' })
    expect(res.statusCode).toBe(400)
    expect(
      res
        .json()
        .details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['metric', 'until'])
  })

  it('takes a registered metric, one registered later included, and a customer without usage yet', async () => {
    expect((await mute({ metric: 'bandwidth', minutes: 5 })).statusCode).toBe(201)
    const registered = await h.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: { name: 'gpu_seconds', aggregation: 'sum' },
    })
    expect(registered.statusCode, registered.body).toBe(201)
    expect((await mute({ metric: 'gpu_seconds', minutes: 5 })).statusCode).toBe(201)
    const ahead = await mute({ customer_id: 'new-customer-no-usage', minutes: 60, reason: 'onboarding' })
    expect(ahead.statusCode, ahead.body).toBe(201)
    expect((await activeMutes()).map((m) => m.customerId ?? m.metric)).toEqual(
      expect.arrayContaining(['bandwidth', 'gpu_seconds', 'new-customer-no-usage']),
    )
  })
})
