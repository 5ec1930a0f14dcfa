import { type ClickHouseClient, createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withSessionSettings } from '../src/adapters/clickhouse/chdb-session.js'
import { createClickHouseClient, SESSION_SETTING_DEFAULTS } from '../src/adapters/clickhouse/client.js'
import { embeddedEnginePath } from '../src/adapters/clickhouse/data-dir-lock.js'
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

// The wrapper that sends only the settings the session does not already hold (chdb-session.ts): the same answers as
// chDB's connection alone, byte for byte, with fewer SET statements; unknown after a failure.
describe('settings sent once per change', () => {
  type Connection = Parameters<typeof withSessionSettings>[0]
  const sent: Record<string, unknown>[] = []
  let plain: ClickHouseClient
  let wrapped: ClickHouseClient

  beforeAll(async () => {
    const path = embeddedEnginePath(testConfig(data.dir))
    const recording = (inner: Connection): Connection => ({
      query: (p) => {
        sent.push({ ...p.clickhouse_settings })
        return inner.query(p)
      },
      exec: (p) => inner.exec(p),
      command: (p) => inner.command(p),
      insert: (p) => {
        sent.push({ ...p.clickhouse_settings })
        return inner.insert(p)
      },
      ping: (p) => inner.ping(p),
      close: () => inner.close(),
    })
    const chdb = () => createChdbConnection({ path }) as unknown as Connection
    plain = createClient({ connection: chdb(), clickhouse_settings: SESSION_SETTING_DEFAULTS })
    wrapped = createClient({
      connection: withSessionSettings(recording(chdb())),
      clickhouse_settings: SESSION_SETTING_DEFAULTS,
    })
  })
  afterAll(async () => {
    await plain?.close()
    await wrapped?.close()
  })

  const QUERY = `SELECT toUInt64(18446744073709551615) AS u, toInt64(-9007199254740993) AS i, 0.1 + 0.2 AS f,
    'a"b' AS s, [toUInt64(1), 2] AS arr, count() AS n FROM session_test.usage_events`
  const text = async (c: ClickHouseClient, format: 'JSONEachRow' | 'JSONCompactEachRow' | 'JSON') =>
    (await c.query({ query: QUERY, format })).text()

  it('answers byte for byte what chDB answers with every setting sent', async () => {
    for (const format of ['JSONEachRow', 'JSONCompactEachRow', 'JSON'] as const) {
      for (let i = 0; i < 2; i++) {
        const want = (await text(plain, format)).replace(/"elapsed":\s*[0-9.e-]+/, '')
        expect((await text(wrapped, format)).replace(/"elapsed":\s*[0-9.e-]+/, '')).toBe(want)
      }
    }
  })

  it('sends a setting only when it changes, and everything again after a failure', async () => {
    sent.length = 0
    await text(wrapped, 'JSONEachRow')
    await text(wrapped, 'JSONEachRow')
    expect(sent.at(-1)).toEqual({})
    await wrapped.insert({
      table: 'session_test.usage_events',
      values: row(90),
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'token-w' },
    })
    expect(sent.at(-1)).toEqual({ insert_deduplication_token: 'token-w' })
    await text(wrapped, 'JSONEachRow')
    expect(sent.at(-1)).toEqual({ insert_deduplication_token: '' })
    // The token is really reset: the next insert without one is stored.
    const before = await count()
    await wrapped.insert({ table: 'session_test.usage_events', values: row(91), format: 'JSONEachRow' })
    expect(await count()).toBe(before + 1)
    await expect(wrapped.query({ query: 'SELECT nonsense(', format: 'JSONEachRow' })).rejects.toThrow()
    await text(wrapped, 'JSONEachRow')
    expect(sent.at(-1)).toEqual(SESSION_SETTING_DEFAULTS)
  })
})
