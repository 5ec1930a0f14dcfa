import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { generateDemo, SHOWCASE } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { type Harness, openHarness, sameHourYesterday } from './helpers.js'

const HOUR = 3_600_000
const END = Date.UTC(2026, 10, 25, 12)
let dynalite: Dynalite
let h: Harness
const demo = generateDemo({ customers: 8, days: 35, seed: 3, endMs: END })

// The production path: the same job and API with the seed's DynamoDB table (dynalite and the real AWS SDK).
beforeAll(async () => {
  dynalite = await startDynalite()
  const admin = createDynamoDbClient({ region: 'us-east-1', endpoint: dynalite.endpoint })
  await createAnomalyTable(admin, 'meterflow-anomalies', () => {})
  admin.destroy()
  h = await openHarness(END + HOUR, {
    anomalyStore: { kind: 'dynamodb', dynamodb: { endpoint: dynalite.endpoint, region: 'us-east-1' } },
  })
  await loadDemo(demo, (batch) => h.meterflow.ingest(batch))
})
afterAll(async () => {
  await h?.close()
  await dynalite?.stop()
})

const inject = async (method: 'GET' | 'POST', url: string, payload?: object) => {
  const res = await h.app.inject({ method, url, payload })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

describe('the detection job on DynamoDB', () => {
  it('stores anomalies and incidents once, however often a slot runs', async () => {
    const first = await inject('POST', '/v1/runs', { slot: END })
    expect(first).toMatchObject({ status: 'completed', checked: 32 })
    expect(first.incidents_opened).toBe(first.anomalies_found)
    const again = await inject('POST', '/v1/runs', { slot: END })
    expect(again).toMatchObject({
      anomalies_found: first.anomalies_found,
      anomalies_stored: 0,
      incidents_opened: 0,
    })
    // The next hour's usage arrives as usual (the demo data ends at END).
    await h.meterflow.ingest(sameHourYesterday(demo, END))
    const next = await inject('POST', '/v1/runs', { slot: END + HOUR })
    expect(next.incidents_opened).toBe(0)

    const spike = await inject('GET', `/v1/anomalies?customer_id=${SHOWCASE.spike}&metric=api_calls`)
    expect(spike.items.map((a: { detected_at: string }) => a.detected_at)).toEqual([
      new Date(END + HOUR).toISOString(),
      new Date(END).toISOString(),
    ])
    const incidents = await inject('GET', `/v1/incidents?customer_id=${SHOWCASE.spike}&status=open`)
    expect(incidents.items).toHaveLength(1)
    expect(incidents.items[0]).toMatchObject({ metric: 'api_calls', detections: 2 })
    const bandwidth = await inject('GET', `/v1/anomalies?metric=bandwidth&since=${END - 7 * 24 * HOUR}`)
    expect(bandwidth.items.some((a: { customer_id: string }) => a.customer_id === SHOWCASE.drop)).toBe(true)
    const runs = await inject('GET', '/v1/runs')
    expect(runs.items.map((r: { slot: string }) => r.slot)).toEqual([
      new Date(END + HOUR).toISOString(),
      new Date(END).toISOString(),
      new Date(END).toISOString(),
    ])
  })

  it('keeps the customer registry in the table', async () => {
    h.clock.ms = END + 2 * HOUR // a slot may not lie beyond the current hour
    await inject('POST', '/v1/runs', { slot: END + 2 * HOUR })
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/customers/umbrella',
      payload: { status: 'disabled' },
    })
    expect(put.statusCode).toBe(200)
    expect(await inject('GET', '/v1/customers/umbrella')).toMatchObject({
      status: 'disabled',
      registered: true,
    })
  })

  it('lists oldest first across metrics (one GSI query per metric, merged), and refuses orders its keys lack', async () => {
    const walk = async (url: string) => {
      const items: { detected_at: string; customer_id: string; metric: string }[] = []
      let cursor: string | null = null
      do {
        const page = await inject('GET', `${url}&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        items.push(...page.items)
        cursor = page.next_cursor
      } while (cursor)
      return items
    }
    const newest = await walk('/v1/anomalies?kind=volume')
    const oldest = await walk('/v1/anomalies?kind=volume&sort=detected_at')
    expect(newest.length).toBeGreaterThan(3)
    const id = (a: { detected_at: string; customer_id: string; metric: string }) =>
      `${a.detected_at}|${a.customer_id}|${a.metric}`
    expect(oldest.map((a) => a.detected_at)).toEqual(newest.map((a) => a.detected_at).reverse())
    expect(new Set(oldest.map(id))).toEqual(new Set(newest.map(id)))
    for (const url of ['/v1/anomalies?sort=severity', '/v1/incidents?sort=-peak_z_score']) {
      const res = await h.app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().details[0]).toMatchObject({
        field: 'sort',
        reason: expect.stringMatching(/only \(its keys\)/),
      })
    }
    const oldestIncidents = await inject('GET', '/v1/incidents?sort=opened_at&kind=volume&limit=100')
    const opened = oldestIncidents.items.map((i: { opened_at: string }) => i.opened_at)
    expect(opened.length).toBeGreaterThan(0)
    expect(opened).toEqual([...opened].sort())
  })
})
