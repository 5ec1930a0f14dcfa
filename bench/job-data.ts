import type { ClickHouseClient } from '@clickhouse/client'
import { migrate } from '../src/adapters/clickhouse/migrations.js'

export const HOURS = 31 * 24
const METRICS = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']

/**
 * Writes `customers` x 4 metrics x 31 days of hourly usage straight into the rollup (and first-seen) tables,
 * generated inside the engine: the job reads only these, and ingesting ~300M events through the API would
 * measure ingest, not the job. Values: a per-customer scale, a daily cycle, deterministic noise, and a 5x spike
 * over the last 6 hours for every 100th customer so that runs find anomalies.
 */
export async function writeHourlyUsage(
  client: ClickHouseClient,
  database: string,
  customers: number,
  endMs: number,
): Promise<void> {
  await migrate(client, database)
  const startSeconds = Math.floor(endMs / 1000) - HOURS * 3600
  await client.command({
    query: `INSERT INTO {db:Identifier}.usage_hourly (metric, customer_id, hour, sum_value, max_value, events)
      SELECT metric, customer_id, hour, v AS sum_value, v AS max_value, 1 AS events FROM (
        SELECT
          {metrics:Array(String)}[intDiv(number, {hours:UInt32}) % 4 + 1] AS metric,
          concat('cust-', leftPad(toString(intDiv(number, 4 * {hours:UInt32})), 6, '0')) AS customer_id,
          number % {hours:UInt32} AS h,
          toDateTime({start:Int64} + h * 3600, 'UTC') AS hour,
          (10 + cityHash64(intDiv(number, 4 * {hours:UInt32})) % 1000)
            * (1 + 0.5 * sin(2 * pi() * (h % 24) / 24))
            * (0.9 + (cityHash64(number) % 1000) / 5000)
            * if(intDiv(number, 4 * {hours:UInt32}) % 100 = 0 AND h >= {hours:UInt32} - 6, 5, 1) AS v
        FROM numbers({rows:UInt64})
      )`,
    query_params: {
      db: database,
      metrics: METRICS,
      hours: HOURS,
      start: startSeconds,
      rows: customers * 4 * HOURS,
    },
    clickhouse_settings: { max_partitions_per_insert_block: '1000', max_insert_threads: '2' },
  })
  await client.command({
    query: `INSERT INTO {db:Identifier}.usage_first_seen (metric, customer_id, first_hour)
      SELECT {metrics:Array(String)}[number % 4 + 1], concat('cust-', leftPad(toString(intDiv(number, 4)), 6, '0')),
        toDateTime({start:Int64}, 'UTC')
      FROM numbers({pairs:UInt64})`,
    query_params: { db: database, metrics: METRICS, start: startSeconds, pairs: customers * 4 },
  })
}
