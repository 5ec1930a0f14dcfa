import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import type { UsageEvent } from '../src/domain/events.js'
import type { WindowHistoryRequest } from '../src/ports.js'
import { tempDataDir, testConfig } from './helpers.js'

// The embedded store keeps hour-aligned window histories (the check's one read) until a write changes them: a
// kept read is answered without the engine, a late event in a kept window is seen at once (whichever store on the
// database wrote it), and windows not on the hour are always read.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
const DB = 'history_cache'
const data = tempDataDir()
let client: ClickHouseClient
let cached: ClickHouseUsageStore
let plain: ClickHouseUsageStore
let queries = 0

const request = (customerId: string, startMs = END - DAY, endMs = END): WindowHistoryRequest => ({
  customerId,
  metric: 'api_calls',
  aggregation: 'sum',
  window: { startMs, endMs },
  stepMs: DAY,
  count: 30,
})

function hourly(customerId: string, from: number, to: number, value: (t: number) => number): UsageEvent[] {
  const out: UsageEvent[] = []
  for (let t = from; t < to; t += HOUR)
    out.push({ eventId: null, customerId, metric: 'api_calls', value: value(t), timestampMs: t })
  return out
}

/** Engine queries a read issues. */
async function counted<T>(read: () => Promise<T>): Promise<{ value: T; queries: number }> {
  const before = queries
  const value = await read()
  return { value, queries: queries - before }
}

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, DB)
  // Reads go through query (JSON rows) or exec (RowBinary rows): both count.
  const query = client.query.bind(client)
  client.query = ((params: Parameters<typeof query>[0]) => {
    queries++
    return query(params)
  }) as typeof client.query
  const exec = client.exec.bind(client)
  client.exec = ((params: Parameters<typeof exec>[0]) => {
    queries++
    return exec(params)
  }) as typeof client.exec
  cached = new ClickHouseUsageStore(client, DB, undefined, { cacheHistories: true })
  plain = new ClickHouseUsageStore(client, DB)
  await cached.insertEvents(hourly('c-a', END - 33 * DAY, END + HOUR, (t) => 10 + ((t / HOUR) % 7)))
  await cached.insertEvents(hourly('c-b', END - 20 * DAY, END, () => 3))
}, 120_000)

afterAll(async () => {
  await client?.close()
  data.remove()
})

describe('kept window histories', () => {
  it('answer a repeated hour-aligned read without the engine, with what the engine answers', async () => {
    const first = await counted(() => cached.windowHistory(request('c-a')))
    expect(first.queries).toBe(1)
    const again = await counted(() => cached.windowHistory(request('c-a')))
    expect(again.queries).toBe(0)
    expect(again.value).toEqual(first.value)
    expect(await plain.windowHistory(request('c-a'))).toEqual(first.value)
    // A caller changing its copy changes nothing kept.
    again.value.aggregates[0] = { value: -1, events: -1 }
    expect((await cached.windowHistory(request('c-a'))).aggregates[0]).toEqual(first.value.aggregates[0])
  })

  it('see a late event in a kept window at once, and one before the first hour', async () => {
    const before = await cached.windowHistory(request('c-a'))
    expect((await counted(() => cached.windowHistory(request('c-a')))).queries).toBe(0)
    await cached.insertEvents([
      {
        eventId: null,
        customerId: 'c-a',
        metric: 'api_calls',
        value: 41.5,
        timestampMs: END - 2 * HOUR + 17,
      },
      { eventId: null, customerId: 'c-a', metric: 'api_calls', value: 2, timestampMs: END - 40 * DAY },
    ])
    const after = await counted(() => cached.windowHistory(request('c-a')))
    expect(after.queries).toBe(1)
    expect(after.value).toEqual(await plain.windowHistory(request('c-a')))
    expect(after.value.aggregates[0]?.value).toBeCloseTo((before.aggregates[0]?.value ?? 0) + 41.5, 9)
    expect(after.value.aggregates[0]?.events).toBe((before.aggregates[0]?.events ?? 0) + 1)
    expect(after.value.firstEventHourMs).toBe(END - 40 * DAY)
  })

  it('see a write by another store on the same database, and keep other series through it', async () => {
    await cached.windowHistory(request('c-a'))
    const b = await cached.windowHistory(request('c-b'))
    await plain.insertEvents([
      { eventId: null, customerId: 'c-b', metric: 'api_calls', value: 5, timestampMs: END - HOUR },
    ])
    expect((await counted(() => cached.windowHistory(request('c-a')))).queries).toBe(0)
    const after = await counted(() => cached.windowHistory(request('c-b')))
    expect(after.queries).toBe(1)
    expect(after.value.aggregates[0]?.value).toBe((b.aggregates[0]?.value ?? 0) + 5)
  })

  it('never keep windows that are not on the hour, nor anything in a store without the option', async () => {
    const unaligned = request('c-a', END - DAY + 1234, END + 1234)
    expect((await counted(() => cached.windowHistory(unaligned))).queries).toBe(1)
    expect((await counted(() => cached.windowHistory(unaligned))).queries).toBe(1)
    expect((await counted(() => plain.windowHistory(request('c-b')))).queries).toBe(1)
    expect((await counted(() => plain.windowHistory(request('c-b')))).queries).toBe(1)
  })
})
