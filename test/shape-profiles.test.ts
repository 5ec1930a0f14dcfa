import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import type { UsageEvent } from '../src/domain/events.js'
import { ALL_CUSTOMERS, rangeCovering } from '../src/domain/shard.js'
import { profileWindows } from '../src/domain/signals/shape/profile.js'
import { ValidationError } from '../src/errors.js'
import type { SeriesProfiles } from '../src/ports.js'
import { insertShuffled, seededRandom, tempDataDir, testConfig } from './helpers.js'

// The embedded profile query (usageStore.shapeProfiles) against profiles computed here from the raw events:
// every series, every week, every hour, across chunks of customers and unmerged rollup parts.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY
const METRICS = [
  { name: 'api_calls', aggregation: 'sum' as const },
  { name: 'storage_peak', aggregation: 'max' as const },
]
const CUSTOMERS = ['acme', 'bolt', 'cyan', 'dune', 'echo', 'fjord', 'gale']
// Mid-day and midnight slots: the windows straddle two dates or cover exactly one.
const SLOTS = [Date.UTC(2026, 10, 25, 13), Date.UTC(2026, 10, 26, 0)]
const WEEKS = 4

const data = tempDataDir()
let client: ClickHouseClient
let store: ClickHouseUsageStore
const events: UsageEvent[] = []

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, 'profiles')
  // Three customers per chunk: seven customers make three chunks.
  store = new ClickHouseUsageStore(client, 'profiles', 3)
  const random = seededRandom(7)
  const from = Math.min(...SLOTS) - WEEKS * WEEK - 2 * DAY
  const to = Math.max(...SLOTS) + 2 * HOUR
  let id = 0
  for (const customerId of CUSTOMERS) {
    // Each customer gets its own busy hour, so that a profile put in the wrong hour or week shows.
    const busy = Math.floor(random() * 24)
    for (let t = from; t < to; t += HOUR) {
      if (customerId === 'gale' && t >= from + 12 * HOUR) break // usage only before every window: no series
      const n = new Date(t).getUTCHours() === busy ? 6 : Math.floor(random() * 3)
      for (let j = 0; j < n; j++) {
        const metric = random() < 0.7 ? 'api_calls' : 'storage_peak'
        events.push({
          eventId: `e${++id}`,
          customerId,
          metric,
          value: Math.floor(random() * 1000) + 1,
          timestampMs: t + Math.floor(random() * HOUR),
        })
      }
    }
  }
  // Many small batches in shuffled order: an hour's rollup rows sit in several parts, unmerged.
  await insertShuffled(store, events, random, 400)
}, 120_000)
afterAll(async () => {
  await client?.close()
  data.remove()
})

/** The profiles of every series with usage in any window, from the raw events. */
function expected(slot: number, weeks: number): Map<string, { current: number[]; baseline: number[][] }> {
  const windows = profileWindows(slot, weeks)
  const all = [windows.current, ...windows.baseline]
  const result = new Map<string, { current: number[]; baseline: number[][] }>()
  for (const e of events) {
    const k = all.findIndex((w) => e.timestampMs >= w.start && e.timestampMs < w.end)
    if (k < 0) continue
    const key = `${e.customerId}/${e.metric}`
    let series = result.get(key)
    if (!series) {
      series = {
        current: new Array(24).fill(0),
        baseline: Array.from({ length: weeks }, () => new Array(24).fill(0)),
      }
      result.set(key, series)
    }
    const day = (k === 0 ? series.current : series.baseline[k - 1]) as number[]
    const hour = Math.floor((e.timestampMs - (all[k]?.start ?? 0)) / HOUR)
    day[hour] = e.metric === 'api_calls' ? (day[hour] ?? 0) + e.value : Math.max(day[hour] ?? 0, e.value)
  }
  return result
}

async function collect(slot: number, weeks: number): Promise<SeriesProfiles[][]> {
  const chunks: SeriesProfiles[][] = []
  for await (const chunk of store.shapeProfiles(slot, weeks, METRICS)) chunks.push(chunk.profiles)
  return chunks
}

describe('shapeProfiles (embedded)', () => {
  for (const slot of SLOTS) {
    for (const weeks of [0, 1, WEEKS]) {
      it(`equals the profiles of the raw events (slot ${new Date(slot).toISOString()}, ${weeks} weeks)`, async () => {
        const chunks = await collect(slot, weeks)
        expect(chunks).toHaveLength(3)
        const got = chunks.flat()
        const want = expected(slot, weeks)
        expect(got.map((s) => `${s.customerId}/${s.metric}`).sort()).toEqual([...want.keys()].sort())
        expect(want.size).toBe(12) // six customers x two metrics; gale has no usage in any window
        for (const series of got) {
          const key = `${series.customerId}/${series.metric}`
          expect(series.slot).toBe(slot)
          expect(series.current, key).toHaveLength(24)
          expect(series.baseline, key).toHaveLength(weeks)
          // Integer values: sums are exact in any order.
          expect({ current: series.current, baseline: series.baseline }, key).toEqual(want.get(key))
        }
      })
    }
  }

  it('reads only the customers of a range', async () => {
    const got: SeriesProfiles[] = []
    for await (const chunk of store.shapeProfiles(SLOTS[0] as number, WEEKS, METRICS, { from: 'b', to: 'd' }))
      got.push(...chunk.profiles)
    expect([...new Set(got.map((s) => s.customerId))].sort()).toEqual(['bolt', 'cyan'])
  })

  it('reads one customer (the check) in one query per aggregation, without a chunk-bounds query', async () => {
    const queries: string[] = []
    const query = client.query.bind(client)
    const exec = client.exec.bind(client)
    client.query = ((params: Parameters<typeof query>[0]) => {
      queries.push(params.query)
      return query(params)
    }) as typeof client.query
    client.exec = ((params: Parameters<typeof exec>[0]) => {
      queries.push(params.query)
      return exec(params)
    }) as typeof client.exec
    const got: SeriesProfiles[] = []
    try {
      const range = rangeCovering(['cyan']) ?? ALL_CUSTOMERS
      for await (const chunk of store.shapeProfiles(SLOTS[0] as number, WEEKS, METRICS, range))
        got.push(...chunk.profiles)
    } finally {
      client.query = query
      client.exec = exec
    }
    expect(queries).toHaveLength(2)
    expect(queries.every((q) => q.includes('Resample') && q.includes('FORMAT RowBinary'))).toBe(true)
    const want = expected(SLOTS[0] as number, WEEKS)
    expect(got.map((s) => `${s.customerId}/${s.metric}`).sort()).toEqual([
      'cyan/api_calls',
      'cyan/storage_peak',
    ])
    for (const series of got) {
      const key = `${series.customerId}/${series.metric}`
      expect({ current: series.current, baseline: series.baseline }, key).toEqual(want.get(key))
    }
  })

  it('reads the checks waiting together (one customer each) in one query per slot and aggregation, each its own', async () => {
    // The embedded engine's options: reads that wait for it are batched.
    const batched = new ClickHouseUsageStore(client, 'profiles', 3, { cacheHistories: true })
    const exec = client.exec.bind(client)
    let queries = 0
    client.exec = ((params: Parameters<typeof exec>[0]) => {
      queries++
      return exec(params)
    }) as typeof client.exec
    // Every customer at both slots, some asking one metric only: 14 reads started at once.
    const requests = SLOTS.flatMap((slot) =>
      CUSTOMERS.map((customerId, i) => ({
        slot,
        customerId,
        metrics: i % 3 === 0 ? METRICS.slice(0, 1) : METRICS,
      })),
    )
    let got: SeriesProfiles[][]
    try {
      got = await Promise.all(
        requests.map(async ({ slot, customerId, metrics }) => {
          const out: SeriesProfiles[] = []
          const range = rangeCovering([customerId]) ?? ALL_CUSTOMERS
          for await (const chunk of batched.shapeProfiles(slot, WEEKS, metrics, range))
            out.push(...chunk.profiles)
          return out
        }),
      )
    } finally {
      client.exec = exec
    }
    // Alone, the 14 reads take 22 queries (one per aggregation each asks for). Batched: the first read goes at once
    // (nothing was running; it asks one metric: one query), the 13 that wait meanwhile go as one batch per slot, one
    // query per aggregation.
    expect(queries).toBe(5)
    for (const [i, { slot, customerId, metrics }] of requests.entries()) {
      const want = expected(slot, WEEKS)
      const keys = [...want.keys()].filter(
        (k) => k.startsWith(`${customerId}/`) && metrics.some((m) => k === `${customerId}/${m.name}`),
      )
      const series = got[i] as SeriesProfiles[]
      expect(series.map((s) => `${s.customerId}/${s.metric}`).sort(), customerId).toEqual(keys.sort())
      for (const s of series) {
        expect(s.slot).toBe(slot)
        expect({ current: s.current, baseline: s.baseline }).toEqual(want.get(`${s.customerId}/${s.metric}`))
      }
    }
    expect(got.flat().length).toBeGreaterThan(15)
  })

  it('refuses a number of weeks outside 0..12 and a slot that is not a whole hour', async () => {
    for (const [slot, weeks] of [
      [SLOTS[0] as number, -1],
      [SLOTS[0] as number, 13],
      [SLOTS[0] as number, 2.5],
      [(SLOTS[0] as number) + 1, 4],
    ] as const) {
      await expect(collect(slot, weeks)).rejects.toBeInstanceOf(ValidationError)
    }
  })
})
