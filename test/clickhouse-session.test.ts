import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { tempDataDir, testConfig } from './helpers.js'

const data = tempDataDir()
let client: ClickHouseClient

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, 'session_test')
})
afterAll(async () => {
  await client?.close()
  data.remove()
})

const row = (n: number) => [
  { customer_id: `c${n}`, metric: 'api_calls', ts: '2026-11-01 00:00:00.000', value: n, event_id: `e${n}` },
]
const insert = (n: number, token?: string) =>
  client.insert({
    table: 'session_test.usage_events',
    values: row(n),
    format: 'JSONEachRow',
    clickhouse_settings: token ? { insert_deduplication_token: token } : {},
  })
const count = async () =>
  Number(
    (
      await (
        await client.query({
          query: 'SELECT count() AS n FROM session_test.usage_events',
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>()
    )[0]?.n,
  )

// chDB applies a query's settings to its session and keeps them: without the client's defaults, an insert
// that sets no token inherits the previous insert's token and is dropped as a duplicate, silently.
describe('the embedded ClickHouse client', () => {
  it('does not carry one insert deduplication token over to the next insert', async () => {
    await insert(1, 'token-a')
    await insert(2)
    await insert(3)
    expect(await count()).toBe(3)
  })

  it('still deduplicates a block re-sent with the same token', async () => {
    await insert(4, 'token-b')
    await insert(5, 'token-b')
    expect(await count()).toBe(4)
  })
})
