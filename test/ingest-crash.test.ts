import { afterAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { type CrashMode, crashBatches } from './crash-batches.js'
import { tempDataDir, testConfig } from './helpers.js'
import { type ServerProcess, startServer } from './server-process.js'

// kill -9 of a real server at many points of a 5,000-event insert, restart, the client's retry: raw events, the
// hourly rollup and first-seen must then hold exactly the sent events, whatever instant the kill hit. Half the
// rounds send events with ids, half without ids under an Idempotency-Key. The batch spans a month boundary, so the
// engine writes it as several parts per table (the case where a plain insert is not atomic).

const T0 = Date.UTC(2026, 9, 31, 0) // 48 h across 31 Oct / 1 Nov
const EVENTS = 5_000
const ROUNDS = 12
const data = tempDataDir()
const env = { METERFLOW_DATA_DIR: data.dir, METERFLOW_AUTH: 'off', METERFLOW_LOG_LEVEL: 'warn' }
let server: ServerProcess | undefined
afterAll(async () => {
  await server?.crash()
  data.remove()
})

type Mode = CrashMode
const {
  expectedSum: sumOf,
  send,
  totals,
} = crashBatches({
  prefix: 'crash',
  t0: T0,
  hours: 48,
  events: EVENTS,
  valueCycle: 7,
})
const expectedSum = (mode: Mode, round: number) => sumOf(round, mode)

describe('ingest under kill -9', () => {
  it(`leaves raw events, rollup and first-seen exact after a kill at any of ${ROUNDS} points and a retry`, async () => {
    server = await startServer(env)
    // An uninterrupted insert of the same size sets the range of kill delays.
    const started = Date.now()
    expect((await send(server.url, 0, 'ids')).status).toBe(200)
    const insertMs = Date.now() - started
    expect(await totals(server.url, 0)).toEqual({ rollup: expectedSum('ids', 0), raw: expectedSum('ids', 0) })

    const outcomes = { acknowledged: 0, completedOnRestart: 0, absentOnRestart: 0 }
    for (let round = 1; round <= ROUNDS; round++) {
      const mode: Mode = round % 2 === 0 ? 'key' : 'ids'
      const delay = Math.round((insertMs * 1.2 * (round - 1)) / (ROUNDS - 1))
      const first = send(server.url, round, mode).then(
        async (r) => (r.ok ? ((await r.json()) as { stored: number }) : null),
        () => null,
      )
      await new Promise((r) => setTimeout(r, delay))
      await server.crash()
      const acked = await first
      server = await startServer(env)

      const retry = await send(server.url, round, mode)
      expect(retry.status).toBe(200)
      const reply = (await retry.json()) as { stored: number; duplicates: number; conflicts: number }
      expect(reply.stored + reply.duplicates, JSON.stringify(reply)).toBe(EVENTS)
      expect(reply.conflicts).toBe(0)
      // A batch is all or nothing: its ledger entry and ids are written in one block.
      expect([0, EVENTS]).toContain(reply.stored)
      if (acked) {
        outcomes.acknowledged++
        expect(acked.stored).toBe(EVENTS)
        expect(reply.stored).toBe(0)
      } else if (reply.stored === 0) outcomes.completedOnRestart++
      else outcomes.absentOnRestart++
      expect(await totals(server.url, round), `round ${round} (${mode}, kill after ${delay} ms)`).toEqual({
        rollup: expectedSum(mode, round),
        raw: expectedSum(mode, round),
      })
    }
    console.log(`ingest kill -9: insert ${insertMs} ms; outcomes ${JSON.stringify(outcomes)}`)
    // The kills landed before, inside and after the insert: otherwise this test proved nothing.
    expect(outcomes.absentOnRestart).toBeGreaterThan(0)
    expect(outcomes.acknowledged + outcomes.completedOnRestart).toBeGreaterThan(0)

    // Every derived table, read directly: exact per round, and no batch left pending.
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
      expect(rows).toHaveLength(ROUNDS + 1)
      for (const row of rows) {
        const round = Number(String(row.customer).slice('crash-'.length))
        const sum = expectedSum(round % 2 === 0 && round > 0 ? 'key' : 'ids', round)
        expect(Number(row.raw_events), String(row.customer)).toBe(EVENTS)
        expect(Number(row.rollup_events), String(row.customer)).toBe(EVENTS)
        expect(Number(row.raw_total)).toBe(sum)
        expect(Number(row.rollup_total)).toBe(sum)
        expect(row.first_hour).toBe(row.raw_first_hour)
      }
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
