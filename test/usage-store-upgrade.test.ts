import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'

// A data directory written by the version before the ingest ledger (materialized views fill the rollup): after
// the upgrade the views on the raw table are gone (else every new event would reach the rollup twice), stored ids are still
// idempotency keys, and the totals are exact.

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 10, 25, 12)
const T = NOW - 5 * HOUR
const data = tempDataDir()
const config = testConfig(data.dir, { clickhouse: { database: 'upgraded' } })
let client: ClickHouseClient
let meterflow: MeterFlow

beforeAll(async () => {
  client = await createClickHouseClient(config)
  await migrate(client, 'upgraded', 3)
  await client.insert({
    table: 'upgraded.usage_events',
    values: [
      { customer_id: 'old', metric: 'api_calls', ts: '2026-11-25 07:10:00.000', value: 5, event_id: 'old-1' },
      { customer_id: 'old', metric: 'api_calls', ts: '2026-11-25 07:20:00.000', value: 7, event_id: 'old-2' },
      { customer_id: 'old', metric: 'api_calls', ts: '2026-11-25 07:30:00.000', value: 11, event_id: '' },
    ],
    format: 'JSONEachRow',
  })
  meterflow = await openMeterFlow(config, { clickhouse: client, clock: new ManualClock(NOW) })
})
afterAll(async () => {
  await meterflow?.close()
  data.remove()
})

const total = async () =>
  (await meterflow.usage.aggregateWindows('old', 'api_calls', 'sum', [{ startMs: T - HOUR, endMs: NOW }]))[0]

describe('upgrading a store written with materialized views', () => {
  it('drops the views, keeps the old totals, and counts new events once', async () => {
    const views = await (
      await client.query({
        query: `SELECT name FROM system.tables WHERE database = 'upgraded' AND engine = 'MaterializedView'
          ORDER BY name`,
        format: 'JSONEachRow',
      })
    ).json()
    // The views on the raw table are gone; the ledger's (migration 5) write every derived table from a batch.
    expect(views).toEqual([
      { name: 'ledger_events_mv' },
      { name: 'ledger_first_seen_mv' },
      { name: 'ledger_hourly_mv' },
    ])
    expect(await total()).toEqual({ value: 23, events: 3 })
    const reply = await meterflow.ingest([
      { event_id: 'new-1', customer_id: 'old', metric: 'api_calls', value: 100, timestamp: T + 60_000 },
    ])
    expect(reply).toMatchObject({ stored: 1, duplicates: 0 })
    expect(await total()).toEqual({ value: 123, events: 4 })
    expect(await meterflow.usage.countEvents()).toBe(4)
  })

  it('keeps ids stored before the upgrade as idempotency keys', async () => {
    const reply = await meterflow.ingest([
      {
        event_id: 'old-1',
        customer_id: 'old',
        metric: 'api_calls',
        value: 5,
        timestamp: Date.UTC(2026, 10, 25, 7, 10),
      },
      {
        event_id: 'old-2',
        customer_id: 'old',
        metric: 'api_calls',
        value: 8,
        timestamp: Date.UTC(2026, 10, 25, 7, 20),
      },
    ])
    expect(reply).toMatchObject({ received: 2, stored: 0, duplicates: 1, conflicts: 1 })
    expect(await total()).toEqual({ value: 123, events: 4 })
  })

  it('treats an Idempotency-Key reused after the ledger stopped trusting its first batch as a new request', async () => {
    const batch = [{ customer_id: 'old', metric: 'api_calls', value: 1000, timestamp: T + 120_000 }]
    expect(await meterflow.ingest(batch, { idempotencyKey: 'weekly-upload' })).toMatchObject({ stored: 1 })
    expect(await meterflow.ingest(batch, { idempotencyKey: 'weekly-upload' })).toMatchObject({
      replayed: true,
    })
    // Eight days later (the ledger trusts batch rows for six): the same key is a new request. Its inserts must not
    // reuse the first batch's tokens, or the engine would drop them as duplicates while the reply says stored.
    await client.command({
      query:
        "ALTER TABLE upgraded.ingest_ledger UPDATE created_at = created_at - INTERVAL 8 DAY WHERE startsWith(key, 'b:')",
      clickhouse_settings: { mutations_sync: '2' },
    })
    expect(await meterflow.ingest(batch, { idempotencyKey: 'weekly-upload' })).toMatchObject({
      stored: 1,
      replayed: false,
    })
    expect(await total()).toEqual({ value: 2123, events: 6 })
  })
})

describe('a batch left half-stored by the code before migration 5', () => {
  it('is completed from its payload after the upgrade, once', async () => {
    // What that code left after a kill between its ledger insert and the raw events: a pending batch row whose
    // payload holds the events, and the rows of their ids.
    await migrate(client, 'legacy', 4)
    const ts = Date.UTC(2026, 10, 25, 6, 30)
    const payload = [
      ['late', 'api_calls', ts, 4, 'legacy-1'],
      ['late', 'api_calls', ts + 60_000, 6, ''],
    ]
    await client.insert({
      table: 'legacy.ingest_ledger',
      columns: ['key', 'batch_id', 'state', 'customer_id', 'metric', 'ts_ms', 'value', 'payload'],
      values: [
        ['b:L1', 'L1', 0, '', '', 0, 0, JSON.stringify(payload)],
        ['e:legacy-1', 'L1', 1, 'late', 'api_calls', ts, 4, ''],
      ],
      format: 'JSONCompactEachRow',
    })
    await migrate(client, 'legacy')
    const store = new ClickHouseUsageStore(client, 'legacy')
    const window = [{ startMs: ts - 30 * 60_000, endMs: ts + 30 * 60_000 }]
    expect(await store.aggregateWindows('late', 'api_calls', 'sum', window)).toEqual([
      { value: 10, events: 2 },
    ])
    expect(await store.firstEventHour('late', 'api_calls')).toBe(Date.UTC(2026, 10, 25, 6))
    expect(await store.repair()).toBe(0)
    const event = { eventId: 'legacy-1', customerId: 'late', metric: 'api_calls', value: 4, timestampMs: ts }
    expect(await store.insertEvents([event])).toMatchObject({ inserted: 0, alreadyStored: [0] })
    // Hour-aligned (rollup) and not (raw events): both hold the batch once.
    expect(
      await store.aggregateWindows('late', 'api_calls', 'sum', [
        { startMs: ts - 30 * 60_000, endMs: ts + HOUR / 2 },
      ]),
    ).toEqual([{ value: 10, events: 2 }])
    expect(await store.countEvents()).toBe(2)
  })
})
