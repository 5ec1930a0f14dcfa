import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openMeterFlow } from '../src/wiring.js'
import { type Harness, openHarness } from './helpers.js'

const NOW = Date.UTC(2026, 10, 25, 12)
const HOUR = 3_600_000
let h: Harness

beforeAll(async () => {
  h = await openHarness(NOW)
})
afterAll(async () => {
  await h?.close()
})

describe('metric registry over HTTP', () => {
  it('lists the seed metrics', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/metrics' })
    expect(
      res.json().metrics.map((m: { name: string; aggregation: string }) => `${m.name}:${m.aggregation}`),
    ).toEqual(['api_calls:sum', 'bandwidth:sum', 'compute_time:sum', 'storage_peak:max'])
  })

  it('registers a metric, accepts its events, and keeps it after a restart', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: { name: 'gpu_seconds', aggregation: 'sum', unit: 's' },
    })
    expect(created.statusCode).toBe(201)
    const again = await h.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: { name: 'gpu_seconds', aggregation: 'sum', description: 'GPU time' },
    })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ description: 'GPU time', unit: 's' })

    const ingest = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: [{ customer_id: 'c1', metric: 'gpu_seconds', value: 3, timestamp: NOW - HOUR }],
    })
    expect(ingest.statusCode).toBe(200)

    // A second MeterFlow on the same store (after this one closes) must know the metric.
    const dataDir = h.meterflow.config.dataDir
    await h.app.close()
    await h.meterflow.close()
    const reopened = await openMeterFlow(h.meterflow.config)
    try {
      expect(reopened.metrics.current().get('gpu_seconds')).toMatchObject({ aggregation: 'sum', unit: 's' })
      expect(reopened.config.dataDir).toBe(dataDir)
    } finally {
      await reopened.close()
    }
    h = await openHarness(NOW)
  })

  it('refuses to change an aggregation and names the field', async () => {
    await h.app.inject({ method: 'POST', url: '/v1/metrics', payload: { name: 'seats', aggregation: 'max' } })
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: { name: 'seats', aggregation: 'sum' },
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ error: 'conflict', details: [{ field: 'aggregation' }] })
    const builtin = await h.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: { name: 'storage_peak', aggregation: 'sum' },
    })
    expect(builtin.statusCode).toBe(409)
  })

  it('rejects a bad name, a bad aggregation and unknown fields with 400', async () => {
    for (const payload of [
      { name: 'GPU Hours', aggregation: 'sum' },
      { name: 'x', aggregation: 'avg' },
      { name: 'x', aggregation: 'sum', color: 'red' },
      { aggregation: 'sum' },
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/metrics', payload })
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().details.length).toBeGreaterThan(0)
    }
    const list = await h.app.inject({ method: 'GET', url: '/v1/metrics' })
    expect(list.json().metrics.map((m: { name: string }) => m.name)).not.toContain('x')
  })
})
