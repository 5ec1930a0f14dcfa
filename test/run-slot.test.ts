import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { latestCompletedSlot } from '../src/app/recent-runs.js'
import { generateDemo, SHOWCASE } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { incident, run } from './contract/anomaly-store.contract.js'
import { type Harness, openHarness } from './helpers.js'

// A run for a future slot once became "the latest run": every real run after it counted as a backfill and opened
// no incident, across restarts. The slot is refused now, and a record stored by an older version is ignored.

const HOUR = 3_600_000
const END = Date.UTC(2026, 10, 25, 12)
const NOW = END + 20 * 60_000
let h: Harness

beforeAll(async () => {
  h = await openHarness(NOW)
  const dataset = generateDemo({ customers: 12, days: 35, seed: 5, endMs: END })
  await loadDemo(dataset, (batch) => h.meterflow.ingest(batch))
})
afterAll(async () => {
  await h?.close()
})

const postRun = (payload: unknown) =>
  h.app.inject({ method: 'POST', url: '/v1/runs', payload: payload as object })

describe('the slot of a run', () => {
  it('may not lie beyond the current hour: 400 naming slot, and no run is recorded', async () => {
    for (const slot of ['2099-01-01T00:00:00Z', '9999-12-31', END + HOUR, String(END + HOUR)]) {
      const res = await postRun({ slot })
      expect(res.statusCode, `${slot}: ${res.body}`).toBe(400)
      expect(res.json()).toMatchObject({
        error: 'validation_failed',
        details: [{ field: 'slot', reason: expect.stringMatching(/beyond the current hour/) }],
      })
    }
    expect((await h.meterflow.anomalies.listRuns({ limit: 10 })).items).toEqual([])
  })

  it('a future run record stored by an older version does not stop a real run from opening incidents', async () => {
    const bogus = Date.UTC(2099, 0, 1)
    await h.meterflow.anomalies.saveRun(
      run({ runId: 'from-an-older-version', slot: bogus, startedAt: NOW - HOUR, status: 'completed' }),
    )
    expect(await latestCompletedSlot(h.meterflow.anomalies, NOW)).toBeNull()

    // The current hour (the clock is 20 minutes into it) is a real run: it opens the showcase incidents.
    const res = await postRun({ slot: new Date(END).toISOString() })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'completed', slot: new Date(END).toISOString() })
    expect(res.json().incidents_opened).toBeGreaterThanOrEqual(2)
    const open = await h.meterflow.anomalies.openIncidents()
    expect(open.map((i) => `${i.customerId}/${i.metric}`)).toEqual(
      expect.arrayContaining([`${SHOWCASE.spike}/api_calls`, `${SHOWCASE.drop}/bandwidth`]),
    )
    // The scheduler's progress (its catch-up on start) skips the bogus record too.
    expect(await latestCompletedSlot(h.meterflow.anomalies, NOW)).toBe(END)

    // An older slot is still a backfill: it stores anomalies but opens nothing.
    const backfill = await postRun({ slot: END - 3 * HOUR })
    expect(backfill.statusCode, backfill.body).toBe(200)
    expect(backfill.json()).toMatchObject({ status: 'completed', incidents_opened: 0, incidents_resolved: 0 })
  })

  it('an incident a bogus future run last evaluated is evaluated again by the next real run', async () => {
    const bogus = Date.UTC(2099, 0, 1)
    const frozen = incident({
      id: 'frozen-by-2099',
      customerId: SHOWCASE.spike,
      metric: 'compute_time',
      openedAt: END - 6 * HOUR,
      lastEvaluatedSlot: bogus,
    })
    await h.meterflow.anomalies.saveIncidents([frozen])
    h.clock.ms = END + HOUR + 20 * 60_000
    const res = await postRun({ slot: new Date(END + HOUR).toISOString() })
    expect(res.statusCode, res.body).toBe(200)
    const after = await h.meterflow.anomalies.getIncident('frozen-by-2099')
    expect(after?.lastEvaluatedSlot).toBe(END + HOUR)
  })
})
