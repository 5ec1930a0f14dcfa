import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import type { UsageEvent } from '../src/domain/events.js'
import type { SeriesWindows } from '../src/ports.js'
import { insertShuffled, seededRandom, tempDataDir, testConfig } from './helpers.js'

// The recent window's hours (seriesWindows with recentHours > 0, series-windows.ts) against hours computed here from
// the raw events: every series, every hour, across chunks of customers and unmerged rollup parts.

const HOUR = 3_600_000
const METRICS = [
  { name: 'api_calls', aggregation: 'sum' as const },
  { name: 'storage_peak', aggregation: 'max' as const },
]
const CUSTOMERS = ['acme', 'bolt', 'cyan', 'dune', 'echo']
const SLOT = Date.UTC(2026, 10, 25, 13)
const HOURS = 48

const data = tempDataDir()
let client: ClickHouseClient
let store: ClickHouseUsageStore
const events: UsageEvent[] = []

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, 'recent')
  // Two customers per chunk: five customers make three chunks.
  store = new ClickHouseUsageStore(client, 'recent', 2)
  const random = seededRandom(11)
  let id = 0
  for (const customerId of CUSTOMERS) {
    // echo starts 10 hours before the slot: its older hours are absent (zeros), not errors.
    const from = customerId === 'echo' ? SLOT - 10 * HOUR : SLOT - (HOURS + 30) * HOUR
    for (let t = from; t < SLOT + 2 * HOUR; t += HOUR) {
      const n = Math.floor(random() * 4)
      for (let j = 0; j < n; j++) {
        events.push({
          eventId: `e${++id}`,
          customerId,
          metric: random() < 0.6 ? 'api_calls' : 'storage_peak',
          value: Math.floor(random() * 1000) + 1,
          timestampMs: t + Math.floor(random() * HOUR),
        })
      }
    }
  }
  await insertShuffled(store, events, random, 300)
}, 120_000)
afterAll(async () => {
  await client?.close()
  data.remove()
})

/** Hour j - 1 = [S - (j + 1) h, S - j h), j = 1..HOURS, from the raw events. */
function expected(customerId: string, metric: string): number[] {
  const hours = new Array<number>(HOURS).fill(0)
  for (const e of events) {
    if (e.customerId !== customerId || e.metric !== metric) continue
    const j = Math.floor((SLOT - HOUR - e.timestampMs) / HOUR) + 1
    if (e.timestampMs >= SLOT - HOUR || j < 1 || j > HOURS) continue
    hours[j - 1] =
      metric === 'api_calls' ? (hours[j - 1] ?? 0) + e.value : Math.max(hours[j - 1] ?? 0, e.value)
  }
  return hours
}

async function collect(recentHours?: number): Promise<SeriesWindows[][]> {
  const chunks: SeriesWindows[][] = []
  for await (const chunk of store.seriesWindows(SLOT, 3, METRICS, undefined, { recentHours }))
    chunks.push(chunk)
  return chunks
}

describe('seriesWindows with the recent hours', () => {
  it('gives every series its hours before the slot, newest first, equal to the raw events', async () => {
    const chunks = await collect(HOURS)
    expect(chunks).toHaveLength(3)
    const got = chunks.flat()
    expect(got).toHaveLength(10)
    for (const s of got) {
      const key = `${s.customerId}/${s.metric}`
      expect(s.recent, key).toHaveLength(HOURS)
      // Integer values: sums are exact in any order. The current hour is hourly[0], not part of `recent`.
      expect(Array.from(s.recent ?? []), key).toEqual(expected(s.customerId, s.metric))
    }
    const echo = got.find((s) => s.customerId === 'echo' && s.metric === 'api_calls')
    expect(echo?.recent?.slice(9).every((v) => v === 0)).toBe(true)
  })

  it('reads no recent hours unless asked (the day and hour windows alone)', async () => {
    const got = (await collect()).flat()
    expect(got).toHaveLength(10)
    expect(got.every((s) => s.recent === undefined)).toBe(true)
  })

  it('refuses a number of hours outside 0..720 (0: none)', async () => {
    for (const hours of [-1, 721, 2.5]) {
      await expect(collect(hours)).rejects.toThrow(RangeError)
    }
  })
})
