import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DETECTOR_SETTING_KEYS, DETECTOR_SETTINGS, detectorToJson } from '../src/domain/detector-settings.js'
import { EVERY_DETECTOR_SETTING } from './contract/anomaly-store.contract.js'
import { type Harness, openHarness } from './helpers.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// Feedback through the API changes what the job learns: an incident labelled planned (a load test) leaves the
// series' baseline, so a later, smaller real anomaly is seen; its twin labelled false positive keeps the period in
// its baseline (that usage was normal, the default) and misses it, like an unlabelled series would.
// Per-customer detector settings and the persistence rule are applied by the job.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 10, 20, 13)
let h: Harness

beforeAll(async () => {
  h = await openHarness(T0 + 5 * DAY)
  const customers = ['fp-co', 'control-co', 'quiet-co', 'persist-co']
  await h.meterflow.ingest(steadyDaily(customers, T0 + 4 * DAY, 40))
  const others = customers.slice(0, 3)
  // A burst of test traffic, the day before T0.
  await h.meterflow.ingest(extra(others, T0 - HOUR / 2, 20_000))
  // Three days later a real, smaller rise.
  await h.meterflow.ingest(extra(others, T0 + 3 * DAY - HOUR / 2, 600))
})
afterAll(async () => {
  await h?.close()
})

const run = async (slot: number) => {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: { slot: new Date(slot).toISOString() },
  })
  expect(res.statusCode, res.body).toBe(200)
}
const anomaliesAt = async (slot: number) => {
  const res = await h.app.inject({
    method: 'GET',
    url: `/v1/anomalies?since=${slot}&until=${slot + 1}&limit=100`,
  })
  return (res.json().items as { customer_id: string }[]).map((a) => a.customer_id).sort()
}

describe('feedback and per-customer detectors', () => {
  it('validates feedback and labels an incident (acknowledging it)', async () => {
    // quiet-co gets a minimum volume above its usage: its burst must not open an incident.
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/quiet-co',
      payload: { detector: { min_volume: 1_000_000 } },
    })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json().detector).toEqual({ min_volume: 1_000_000 })
    const bad = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/quiet-co',
      payload: { detector: { baseline: 'lunar' } },
    })
    expect(bad.statusCode).toBe(400)

    await run(T0)
    expect(await anomaliesAt(T0)).toEqual(['control-co', 'fp-co'])
    const incidents = (await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open' })).json()
      .items as {
      id: string
      customer_id: string
    }[]
    const fp = incidents.find((i) => i.customer_id === 'fp-co')
    const control = incidents.find((i) => i.customer_id === 'control-co')
    expect(fp).toBeDefined()
    const url = `/v1/incidents/${encodeURIComponent(fp?.id ?? '')}/feedback`
    const invalid = await h.app.inject({ method: 'POST', url, payload: { label: 'boring' } })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().details[0].field).toMatch(/label/)
    const missing = await h.app.inject({
      method: 'POST',
      url: '/v1/incidents/nope/feedback',
      payload: { label: 'planned' },
    })
    expect(missing.statusCode).toBe(404)
    const labelled = await h.app.inject({
      method: 'POST',
      url,
      payload: { label: 'planned', note: 'load test', by: 'sre@example.com' },
    })
    expect(labelled.statusCode, labelled.body).toBe(200)
    expect(labelled.json()).toMatchObject({
      feedback: { label: 'planned', note: 'load test', by: 'sre@example.com' },
      acknowledged_by: 'sre@example.com',
    })
    const read = await h.app.inject({
      method: 'GET',
      url: `/v1/incidents/${encodeURIComponent(fp?.id ?? '')}`,
    })
    expect(read.json().feedback.label).toBe('planned')
    const other = await h.app.inject({
      method: 'POST',
      url: `/v1/incidents/${encodeURIComponent(control?.id ?? '')}/feedback`,
      payload: { label: 'false_positive' },
    })
    expect(other.statusCode, other.body).toBe(200)
  })

  it('a planned period leaves the baseline: a later real rise is found where the false-positive twin misses it', async () => {
    // The burst leaves the 24 h window; two clean runs resolve both incidents.
    await run(T0 + DAY)
    await run(T0 + DAY + HOUR)
    expect((await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open' })).json().items).toEqual([])

    await run(T0 + 3 * DAY)
    expect(await anomaliesAt(T0 + 3 * DAY)).toEqual(['fp-co'])
  })

  it('with persistence 2 of 3, an incident opens on the second anomalous run, not the first', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/persist-co',
      payload: { detector: { persist_runs: 2, persist_window: 3 } },
    })
    expect(put.statusCode, put.body).toBe(200)
    // Two of one run can never happen: refused, naming the field, and nothing changes.
    const impossible = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/persist-co',
      payload: { detector: { persist_runs: 3 } },
    })
    expect(impossible.statusCode).toBe(400)
    expect(impossible.json().details[0].field).toBe('detector.persist_window')
    const kept = await h.app.inject({ method: 'GET', url: '/v1/customers/persist-co' })
    expect(kept.json().detector).toEqual({ persist_runs: 2, persist_window: 3 })
    const slot = T0 + 4 * DAY
    await h.meterflow.ingest(extra(['persist-co'], slot - HOUR / 2, 5000))
    await run(slot)
    expect(await anomaliesAt(slot)).toContain('persist-co')
    const openFor = async () =>
      (await h.app.inject({ method: 'GET', url: '/v1/incidents?customer_id=persist-co' })).json().items as {
        opened_at: string
      }[]
    expect(await openFor()).toEqual([])
    await run(slot + HOUR)
    const opened = await openFor()
    expect(opened.map((i) => i.opened_at)).toEqual([new Date(slot + HOUR).toISOString()])
  })

  it('takes and shows every declared detector setting under its API name, and refuses one out of range', async () => {
    const every = detectorToJson(EVERY_DETECTOR_SETTING)
    expect(Object.keys(every).sort()).toEqual(
      DETECTOR_SETTING_KEYS.map((k) => DETECTOR_SETTINGS[k].name).sort(),
    )
    const url = '/v1/customers/settings-co'
    const put = await h.app.inject({ method: 'PUT', url, payload: { detector: every } })
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json().detector).toStrictEqual(every)
    expect((await h.app.inject({ method: 'GET', url })).json().detector).toStrictEqual(every)

    for (const [field, value] of [
      ['persist_window', 25],
      ['level_shift_days', 1.5],
      ['min_volume', 1e19],
      ['windows', ['day', 'day']],
    ] as const) {
      const bad = await h.app.inject({
        method: 'PUT',
        url,
        payload: { detector: { ...every, [field]: value } },
      })
      expect(bad.statusCode, `${field}: ${bad.body}`).toBe(400)
      expect(JSON.stringify(bad.json().details)).toContain(field)
    }
    expect((await h.app.inject({ method: 'GET', url })).json().detector).toStrictEqual(every)
  })
})
