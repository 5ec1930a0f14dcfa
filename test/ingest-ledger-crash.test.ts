import { type FSWatcher, readdirSync, watch } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { type CrashMode, crashBatches } from './crash-batches.js'
import { tempDataDir, testConfig } from './helpers.js'
import { type ServerProcess, startServer } from './server-process.js'

// The points where a batch is half-stored since the ledger's insert writes every derived table (migration 5), each
// hit by kill -9 of a real server the moment the engine commits a part (watched on disk, not guessed by a delay):
// the ledger's part is there and the views' parts are not yet; the raw events' part is there and the rollup's not
// (or the reverse); and after the 200, when the batch's commit row still waits for the next batch. After a restart
// and the client's retry, raw events, rollup and first-seen must hold exactly the sent events.

const T0 = Date.UTC(2026, 9, 31, 12) // 24 h across 31 Oct / 1 Nov: two partitions per table
const EVENTS = 2_000
const TABLES = ['ingest_ledger', 'usage_events', 'usage_hourly', 'usage_first_seen'] as const
type Table = (typeof TABLES)[number]
type Point = Table | 'acknowledged'
const POINTS: Point[] = ['ingest_ledger', 'usage_events', 'usage_hourly', 'acknowledged']
type Mode = CrashMode

const { expectedSum, send, totals } = crashBatches({
  prefix: 'point',
  t0: T0,
  hours: 24,
  events: EVENTS,
  valueCycle: 5,
})

const data = tempDataDir()
const env = { METERFLOW_DATA_DIR: data.dir, METERFLOW_AUTH: 'off', METERFLOW_LOG_LEVEL: 'warn' }
let server: ServerProcess | undefined
afterAll(async () => {
  await server?.crash()
  data.remove()
})

const tableDir = (table: Table) => join(data.dir, 'clickhouse', 'data', 'meterflow', table)
/**
 * A part written by an insert: `<partition>_<n>_<n>_<level>`, level 1 where the engine merges rows on insert (the
 * Replacing and Aggregating tables); a merge spans several block numbers, a mutation adds a fifth field.
 */
const INSERTED_PART = /^[^_]+_(\d+)_\1_[01]$/
const insertedParts = (table: Table) =>
  new Set(readdirSync(tableDir(table)).filter((n) => INSERTED_PART.test(n)))

/** Kills the server the moment `table` commits a part written by an insert. */
function killOnPart(target: ServerProcess, table: Table): FSWatcher {
  const before = insertedParts(table)
  const watcher = watch(tableDir(table), (_event, name) => {
    if (name && INSERTED_PART.test(name) && !before.has(name)) {
      target.child.kill('SIGKILL')
      watcher.close()
    }
  })
  return watcher
}

describe('ingest under kill -9 at the points of the ledger-fed views', () => {
  it('leaves every table exact after a kill as each part lands, or after the 200, and a retry', async () => {
    server = await startServer(env)
    // One batch first: the tables have parts, and a later kill on a part is a kill inside a batch.
    expect((await send(server.url, 0, 'ids')).status).toBe(200)
    // Which tables had committed the batch's parts when the kill landed, per point.
    const seen: Record<string, string[]> = {}
    let round = 0
    for (const point of POINTS) {
      for (const mode of ['ids', 'key'] as Mode[]) {
        round++
        const partsBefore = Object.fromEntries(TABLES.map((t) => [t, insertedParts(t)]))
        const watcher = point === 'acknowledged' ? null : killOnPart(server, point)
        const first = await send(server.url, round, mode).then(
          async (r) => (r.ok ? ((await r.json()) as { stored: number }) : null),
          () => null,
        )
        watcher?.close()
        if (point === 'acknowledged') expect(first?.stored).toBe(EVENTS)
        await server.crash()
        const landed = TABLES.filter((t) => [...insertedParts(t)].some((p) => !partsBefore[t]?.has(p)))
        seen[`${point} ${mode}`] = landed

        server = await startServer(env)
        const retry = await send(server.url, round, mode)
        expect(retry.status).toBe(200)
        const reply = (await retry.json()) as { stored: number; duplicates: number; conflicts: number }
        expect(reply.stored + reply.duplicates, JSON.stringify(reply)).toBe(EVENTS)
        expect(reply.conflicts).toBe(0)
        expect([0, EVENTS]).toContain(reply.stored)
        expect(await totals(server.url, round), `${point} ${mode}: parts landed ${landed}`).toEqual({
          rollup: expectedSum(round, mode),
          raw: expectedSum(round, mode),
        })
      }
    }
    console.log(`ingest kill -9 on each part: tables whose part had landed ${JSON.stringify(seen)}`)
    // The kills hit the points they aim at: the ledger's part without every view's part, and a view's part
    // without another's (else this test proved nothing about them).
    const halfWritten = Object.entries(seen).filter(
      ([, landed]) => landed.includes('ingest_ledger') && landed.length < TABLES.length,
    )
    expect(halfWritten.length, JSON.stringify(seen)).toBeGreaterThan(0)
    expect(seen['acknowledged ids']).toEqual([...TABLES])

    await server.stop()
    server = undefined
    const client = await createClickHouseClient(testConfig(data.dir))
    try {
      const rows = await (
        await client.query({
          query: `SELECT r.customer_id AS customer, r.n AS raw_events, r.total AS raw_total, h.n AS rollup_events,
              h.total AS rollup_total, f.first AS first_hour, r.first AS raw_first_hour
            FROM (SELECT customer_id, count() AS n, sum(value) AS total, toStartOfHour(min(ts)) AS first
                  FROM meterflow.usage_events GROUP BY customer_id) AS r
            JOIN (SELECT customer_id, sum(events) AS n, sum(sum_value) AS total FROM meterflow.usage_hourly
                  GROUP BY customer_id) AS h USING customer_id
            JOIN (SELECT customer_id, min(first_hour) AS first FROM meterflow.usage_first_seen
                  GROUP BY customer_id) AS f USING customer_id
            ORDER BY customer`,
          format: 'JSONEachRow',
        })
      ).json<Record<string, string | number>>()
      expect(rows).toHaveLength(round + 1)
      for (const row of rows) {
        const r = Number(String(row.customer).slice('point-'.length))
        const sum = expectedSum(r, r % 2 === 0 && r > 0 ? 'key' : 'ids')
        expect(Number(row.raw_events), String(row.customer)).toBe(EVENTS)
        expect(Number(row.rollup_events), String(row.customer)).toBe(EVENTS)
        expect(Number(row.raw_total), String(row.customer)).toBe(sum)
        expect(Number(row.rollup_total), String(row.customer)).toBe(sum)
        expect(row.first_hour).toBe(row.raw_first_hour)
      }
      // A clean stop writes the last batch's commit row: nothing is left pending.
      const pending = await (
        await client.query({
          query: `SELECT count() AS n FROM (SELECT batch_id FROM meterflow.ingest_ledger WHERE startsWith(key, 'b:')
                  GROUP BY batch_id HAVING max(state) = 0)`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>()
      expect(Number(pending[0]?.n)).toBe(0)
    } finally {
      await client.close()
    }
  }, 600_000)
})
