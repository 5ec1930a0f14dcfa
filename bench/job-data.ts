import type { ClickHouseClient } from '@clickhouse/client'
import { migrate } from '../src/adapters/clickhouse/migrations.js'

export const HOURS = 31 * 24
const METRICS = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']
/** Rows per written part: ~2.5 GB of engine memory while one is formed. */
const ROWS_PER_PART = 10_000_000
/** Far beyond what the merges of 100k customers take (~30 s after the write here): a stuck engine fails the bench. */
const SETTLE_LIMIT_MS = 20 * 60_000

/**
 * Writes `customers` x 4 metrics x 31 days of hourly usage straight into the rollup (and first-seen) tables,
 * generated inside the engine: the job reads only these, and ingesting ~300M events through the API would
 * measure ingest, not the job. Values: a per-customer scale, a daily cycle, deterministic noise, and a 5x spike
 * over the last 6 hours for every 100th customer so that runs find anomalies.
 *
 * Rows are written in the rollup's sort key order (metric, customer, hour), one thread, in parts of ROWS_PER_PART:
 * the parts do not overlap, the engine's background merges combine them into a few large ones while the write goes
 * on (100k customers: 30 parts written, 15 left when the write ends, 5 some 30 s later), and this returns once no
 * merge is left (settleMerges). The values are those of the former generator (it walked customer, metric, hour and keyed the
 * noise by that row number `n`), which wrote in that order on two threads and then needed OPTIMIZE FINAL to
 * rewrite the whole rollup once more: 121 s + 104 s against 143 s here at 100k customers (settling included), the job and the floor
 * reading either layout within the machine's noise (bench/job-child.ts on both, interleaved).
 */
export async function writeHourlyUsage(
  client: ClickHouseClient,
  database: string,
  customers: number,
  endMs: number,
): Promise<{ parts: number }> {
  await migrate(client, database)
  const startSeconds = Math.floor(endMs / 1000) - HOURS * 3600
  await client.command({
    query: `INSERT INTO {db:Identifier}.usage_hourly (metric, customer_id, hour, sum_value, max_value, events)
      SELECT metric, customer_id, hour, v AS sum_value, v AS max_value, 1 AS events FROM (
        SELECT
          intDiv(number, {customers:UInt64} * {hours:UInt32}) AS mi,
          intDiv(number, {hours:UInt32}) % {customers:UInt64} AS ci,
          number % {hours:UInt32} AS h,
          ci * 4 * {hours:UInt32} + mi * {hours:UInt32} + h AS n,
          {metrics:Array(String)}[mi + 1] AS metric,
          concat('cust-', leftPad(toString(ci), 6, '0')) AS customer_id,
          toDateTime({start:Int64} + h * 3600, 'UTC') AS hour,
          (10 + cityHash64(ci) % 1000)
            * (1 + 0.5 * sin(2 * pi() * (h % 24) / 24))
            * (0.9 + (cityHash64(n) % 1000) / 5000)
            * if(ci % 100 = 0 AND h >= {hours:UInt32} - 6, 5, 1) AS v
        FROM numbers({rows:UInt64})
      )`,
    query_params: {
      db: database,
      metrics: METRICS,
      hours: HOURS,
      start: startSeconds,
      customers,
      rows: customers * 4 * HOURS,
    },
    clickhouse_settings: {
      max_partitions_per_insert_block: '1000',
      max_threads: 1,
      max_insert_threads: '1',
      min_insert_block_size_rows: String(ROWS_PER_PART),
      min_insert_block_size_bytes: '0',
      max_insert_block_size: String(ROWS_PER_PART),
    },
  })
  await client.command({
    query: `INSERT INTO {db:Identifier}.usage_first_seen (metric, customer_id, first_hour)
      SELECT {metrics:Array(String)}[number % 4 + 1], concat('cust-', leftPad(toString(intDiv(number, 4)), 6, '0')),
        toDateTime({start:Int64}, 'UTC')
      FROM numbers({pairs:UInt64})`,
    query_params: { db: database, metrics: METRICS, start: startSeconds, pairs: customers * 4 },
  })
  return { parts: await settleMerges(client, database) }
}

/**
 * Waits until the database's background merges are over and the rollup's parts stay as they are (4 polls a second
 * apart; returns how many parts the rollup has then), so that whichever process opens the engine next (the floor's,
 * the job's) runs no merge of this data: measured times would otherwise depend on how far the merges had got (the
 * same floor 18.5 s warm in one run, 25.9 s in another).
 */
async function settleMerges(client: ClickHouseClient, database: string): Promise<number> {
  const deadline = Date.now() + SETTLE_LIMIT_MS
  let quiet = 0
  let lastParts = -1
  while (quiet < 4) {
    if (Date.now() > deadline)
      throw new Error(
        `the engine's merges of ${database} were still running after ${SETTLE_LIMIT_MS / 60_000} minutes`,
      )
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const rows = await (
      await client.query({
        query: `SELECT (SELECT count() FROM system.merges WHERE database = {db:String}) AS merges,
          (SELECT count() FROM system.parts WHERE database = {db:String} AND table = 'usage_hourly' AND active) AS parts`,
        query_params: { db: database },
        format: 'JSONEachRow',
      })
    ).json<{ merges: string | number; parts: string | number }>()
    const merges = Number(rows[0]?.merges)
    const parts = Number(rows[0]?.parts)
    quiet = merges === 0 && parts === lastParts ? quiet + 1 : 0
    lastParts = parts
  }
  return lastParts
}
