// `npx tsx bench/ledger-lookup.ts [--rows 1000000,5000000,20000000] [--granularity 256] [--ids v4|v7]`: how a batch's
// stored-id look-up grows with the ingest ledger (docs/decisions.md, Ingest). The ledger is filled with synthetic
// event-id rows (random UUIDv4 ids, or time-ordered UUIDv7 with --ids v7; written as migration 4's backfill writes
// stored ids: no batch, so the views skip them), then
// the real IngestLedger stores a 10,000-event batch of new random ids, and a batch of 10,000 events without ids (no
// look-up: the write alone), three of each per size. With --granularity, a copy of the ledger with that
// index_granularity answers the same look-up beside the ledger's own (ledger rows only: the copy has no views).
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { IngestLedger } from '../src/adapters/clickhouse/ingest-ledger.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { loadConfig } from '../src/config.js'
import type { UsageEvent } from '../src/domain/events.js'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000,5000000,20000000' },
    granularity: { type: 'string' },
    ids: { type: 'string', default: 'v4' },
  },
})
const sizes = (args.rows as string).split(',').map(Number)
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1))
  throw new RangeError('--rows: positive whole numbers')
const granularity = args.granularity === undefined ? null : Number(args.granularity)
if (args.ids !== 'v4' && args.ids !== 'v7') throw new RangeError('--ids: v4 or v7')
const timeOrdered = args.ids === 'v7'
/** A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits; ids made later sort after earlier ones. */
const uuidV7 = (): string => {
  const hex = Date.now().toString(16).padStart(12, '0') + randomUUID().replace(/-/g, '').slice(12)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
const newId = timeOrdered ? uuidV7 : randomUUID
const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-ledger-'))
const database = 'bench_ledger'
const client = await createClickHouseClient(
  loadConfig({}, { dataDir, logLevel: 'warn', demo: { enabled: false } }),
)
const log = (s: string) => process.stderr.write(`${s}\n`)
// The shape of storedIds' query (ingest-ledger.ts), for the copy only.
const lookupIn = (table: string) =>
  `SELECT key, batch_id, customer_id, metric, ts_ms, value FROM ${database}.${table}
   WHERE key IN (SELECT key FROM format(TabSeparated, 'key String', {keys:String})) LIMIT 1 BY key`

const batch = (withIds: boolean): UsageEvent[] =>
  Array.from({ length: 10_000 }, (_, i) => ({
    eventId: withIds ? newId() : null,
    customerId: `cust-${i % 100}`,
    metric: 'api_calls',
    value: 1,
    timestampMs: Date.now() - 3_600_000,
  }))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

try {
  await migrate(client, database)
  const ledger = new IngestLedger(client, database)
  if (granularity !== null) {
    await client.command({
      query: `CREATE TABLE ${database}.ledger_copy AS ${database}.ingest_ledger
        ENGINE = ReplacingMergeTree(state) ORDER BY key SETTINGS index_granularity = ${granularity}`,
    })
  }
  const tables = ['ingest_ledger', ...(granularity === null ? [] : ['ledger_copy'])]
  let have = 0
  const results = []
  for (const n of sizes) {
    log(`filling the ledger to ${n.toLocaleString('en-US')} id rows`)
    for (const table of tables) {
      await client.command({
        query: `INSERT INTO ${database}.${table} (key, batch_id, state, customer_id, metric, ts_ms, value)
          SELECT concat('e:', toString(${timeOrdered ? 'generateUUIDv7(number)' : 'generateUUIDv4(number)'})), '', 1, 'cust-0', 'api_calls', 1700000000000, 1
          FROM numbers(${have}, ${Math.max(0, n - have)})`,
        clickhouse_settings: { max_insert_threads: '2' },
      })
      await client.command({ query: `OPTIMIZE TABLE ${database}.${table} FINAL` })
    }
    have = Math.max(have, n)
    const timed = { withIds: [] as number[], withoutIds: [] as number[], copy: [] as number[] }
    for (let round = 0; round < 3; round++) {
      for (const withIds of [true, false]) {
        const events = batch(withIds)
        const started = performance.now()
        await ledger.insert(events)
        timed[withIds ? 'withIds' : 'withoutIds'].push(performance.now() - started)
      }
      if (granularity !== null) {
        const keys = Array.from({ length: 10_000 }, () => `e:${newId()}`).join('\n')
        const started = performance.now()
        await (
          await client.query({
            query: lookupIn('ledger_copy'),
            query_params: { keys },
            format: 'JSONEachRow',
          })
        ).json()
        timed.copy.push(performance.now() - started)
      }
    }
    results.push({
      'ledger id rows': n,
      [`10k new ${args.ids} ids: insert ms`]: Math.round(median(timed.withIds)),
      '10k without ids: insert ms': Math.round(median(timed.withoutIds)),
      'the difference (look-up) ms': Math.round(median(timed.withIds) - median(timed.withoutIds)),
      ...(granularity === null
        ? {}
        : { [`look-up on a copy, granularity ${granularity}, ms`]: Math.round(median(timed.copy)) }),
    })
  }
  console.table(results)
} finally {
  await client.close()
  rmSync(dataDir, { recursive: true, force: true })
}
