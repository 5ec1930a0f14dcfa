import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation } from '../../domain/metrics.js'
import { ALL_CUSTOMERS, type CustomerRange, rangesFromBounds } from '../../domain/shard.js'
import { DAY_MS, HOUR_MS } from '../../domain/time.js'
import type { SeriesWindows } from '../../ports.js'
import { withStoreError } from './errors.js'
import { recentHoursForRange } from './recent-hours.js'

/**
 * Per-day history of every series (customer x metric) for one slot S, from the hourly rollup: the aggregate of
 * the 24 h window ending k days before S and of the hour ending k days before S, for k = 0..K (0 = now), plus
 * the series' first hour. Days without rows are real zeros. The statistics are the domain's (detector.ts).
 *
 * One conditional aggregate per day keeps every series' state a fixed array of numbers: sumMap/maxMap states and
 * two-level GROUP BYs measured 4-10x the memory. The number of columns is structure derived from the validated
 * integer K, not a value.
 */
const SQL = (aggregation: Aggregation, days: number) => {
  const fn = aggregation === 'sum' ? 'sumIf' : 'maxIf'
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  const perDay = (index: string) =>
    Array.from({ length: days + 1 }, (_, day) => `${fn}(${column}, ${index} = ${day})`).join(', ')
  return `
  SELECT metric, customer_id, first_ms, by_day, by_hour
  FROM (
    SELECT metric, customer_id, [${perDay('k')}] AS by_day, [${perDay('hk')}] AS by_hour
    FROM (
      SELECT metric, customer_id, ${column},
        {slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
        toUInt32(intDiv(age, ${DAY_MS})) AS k,
        -- the hour-of-day of the slot's last hour, k days back; other hours get an index no column reads
        if(age % ${DAY_MS} < ${HOUR_MS}, k, 100000) AS hk
      FROM {db:Identifier}.usage_hourly
      WHERE metric IN {metrics:Array(String)}
        AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
    )
    GROUP BY metric, customer_id
  ) AS a
  INNER JOIN (
    SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms
    FROM {db:Identifier}.usage_first_seen
    WHERE metric IN {metrics:Array(String)}
      AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
    GROUP BY metric, customer_id
  ) AS f USING (metric, customer_id)`
}

type Row = [metric: string, customerId: string, firstMs: number | string, byDay: number[], byHour: number[]]

/** Customers per query: bounds the memory of one query and of its result whatever the number of customers. */
export const CUSTOMERS_PER_CHUNK = 2_500
const EXTERNAL_GROUP_BY_BYTES = 50_000_000

/**
 * Every series of the customers in `shard` (default: all) in chunks of customer-id ranges (the table's sort key,
 * so each query reads only its range): 2 x ceil(customers / CUSTOMERS_PER_CHUNK) queries plus one for the range
 * bounds, never one per customer. The chunks are cut inside the shard, so a shard's chunks are full-size too.
 */
export async function* seriesWindowsForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  baselineDays: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk = CUSTOMERS_PER_CHUNK,
  shard: CustomerRange = ALL_CUSTOMERS,
  /** > 0 when a detector uses the recent window: each series also gets its `recentHours` hours (recent-hours.ts). */
  recentHours = 0,
): AsyncGenerator<SeriesWindows[]> {
  const bounds = await chunkBounds(client, database, customersPerChunk, shard)
  for (let i = 0; i < bounds.length; i++) {
    const range = { from: bounds[i] as string, to: bounds[i + 1] ?? shard.to }
    const chunk: SeriesWindows[] = []
    for (const aggregation of ['sum', 'max'] as const) {
      const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
      if (names.length === 0) continue
      const rows = await withStoreError('compute detection statistics', async () => {
        const result = await client.query({
          query: SQL(aggregation, baselineDays),
          query_params: {
            db: database,
            slot: slotMs,
            k: baselineDays,
            lo: slotMs - (baselineDays + 1) * DAY_MS,
            metrics: names,
            ...range,
          },
          // Compact rows (no repeated keys) keep a chunk's result small.
          format: 'JSONCompactEachRow',
          // Spill the aggregation to disk past this size: memory stays flat however large a chunk's history.
          clickhouse_settings: { max_bytes_before_external_group_by: String(EXTERNAL_GROUP_BY_BYTES) },
        })
        return result.json<Row>()
      })
      for (const [metric, customerId, firstMs, daily, hourly] of rows) {
        chunk.push({ customerId, metric, slot: slotMs, firstHourMs: Number(firstMs), daily, hourly })
      }
    }
    if (recentHours > 0) {
      const recent = await recentHoursForRange(client, database, slotMs, recentHours, metrics, range)
      for (const s of chunk) s.recent = recent.get(`${s.customerId}\u0000${s.metric}`) ?? []
    }
    yield chunk
  }
}

/**
 * The customer ids with usage in [from, to) ('' = no upper bound), sorted, as one array that stays on the server:
 * only the bounds picked from it come back, whatever the number of customers.
 */
const SORTED_IDS = `SELECT arraySort(groupUniqArray(customer_id)) AS ids FROM {db:Identifier}.usage_first_seen
  WHERE customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})`

/**
 * Lower bounds of customer-id ranges of `size` customers each within `range`; the first is range.from (everything
 * from the range's start).
 */
export async function chunkBounds(
  client: ClickHouseClient,
  database: string,
  size: number,
  range: CustomerRange,
): Promise<string[]> {
  const rows = await withStoreError('split customers into chunks', async () => {
    const result = await client.query({
      query: `SELECT arrayFilter((id, i) -> i > 1 AND (i - 1) % {size:UInt32} = 0, ids, arrayEnumerate(ids))
        FROM (${SORTED_IDS})`,
      query_params: { db: database, size, from: range.from, to: range.to },
      format: 'JSONCompactEachRow',
    })
    return result.json<[string[]]>()
  })
  return [range.from, ...(rows[0]?.[0] ?? [])]
}

/**
 * At most `count` consecutive ranges of about equal numbers of customers (sizes differ by one at most), the first
 * from '', the last to '': ids that appear later fall in one of them. Range j > 0 starts at the id at 0-based
 * position floor(j x n / count); position p is such a start when ceil((p + 1) x count / n) > ceil(p x count / n)
 * (count > n: every id starts one). The test reads only the position and two numbers: a lambda that reads `ids`
 * itself gets a copy of it per element (measured: 1M ids into 1000 ranges asked for 25 GiB).
 */
export async function customerRangesOf(
  client: ClickHouseClient,
  database: string,
  count: number,
): Promise<CustomerRange[]> {
  const rows = await withStoreError('split customers into shards', async () => {
    const result = await client.query({
      query: `SELECT arrayFilter(
          (id, i) -> i > 1 AND intDiv(i * {count:UInt32} + n - 1, n) > intDiv((i - 1) * {count:UInt32} + n - 1, n),
          ids, arrayEnumerate(ids))
        FROM (SELECT ids, length(ids) AS n FROM (${SORTED_IDS}))`,
      query_params: { db: database, count, ...ALL_CUSTOMERS },
      format: 'JSONCompactEachRow',
    })
    return result.json<[string[]]>()
  })
  return rangesFromBounds(['', ...(rows[0]?.[0] ?? [])])
}
