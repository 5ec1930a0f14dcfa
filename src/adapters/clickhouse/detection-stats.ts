import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation } from '../../domain/metrics.js'
import { StoreError } from '../../errors.js'
import type { SeriesStats } from '../../ports.js'

const DAY_MS = 86_400_000

/**
 * Current value and baseline statistics of every series (customer x metric) for one slot, from the hourly
 * rollup. The window of slot S is [S - 24 h, S); sample k (1..K) is the window shifted back k days, counted
 * only from the series' first hour; a sample without rows is a real zero.
 */
// One conditional aggregate per day of the window (0 = the current window, 1..K the samples) keeps every series'
// state a fixed array of K + 1 numbers: sumMap/maxMap states and two-level GROUP BYs measured 4-10x the memory.
// The number of columns is structure derived from the validated integer K, not a value.
const SQL = (aggregation: Aggregation, days: number) => {
  const fn = aggregation === 'sum' ? 'sumIf' : 'maxIf'
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  const perDay = Array.from({ length: days + 1 }, (_, day) => `${fn}(${column}, k = ${day})`).join(', ')
  return `
  SELECT metric, customer_id, current_value, samples, mean,
    if(samples = 0, 0, scale * sqrt(arrayAvg(arrayMap(x -> pow(x / scale - mean / scale, 2), sample_values)))) AS stddev
  FROM (
    SELECT metric, customer_id,
      by_day[1] AS current_value,
      arrayFilter((v, i) -> {slot:Int64} - (toInt64(i) + 1) * ${DAY_MS} >= first_ms, arraySlice(by_day, 2), range(1, {k:UInt32} + 1)) AS sample_values,
      length(sample_values) AS samples,
      if(samples = 0, 0, arrayAvg(sample_values)) AS mean,
      greatest(arrayMax(arrayMap(x -> abs(x), arrayPushBack(sample_values, 0))), 1e-300) AS scale
    FROM (
      SELECT metric, customer_id, [${perDay}] AS by_day
      FROM (
        SELECT metric, customer_id, ${column},
          toUInt32(intDiv({slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000, ${DAY_MS})) AS k
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
    ) AS f USING (metric, customer_id)
  )`
}

type Row = [
  metric: string,
  customerId: string,
  current: number,
  samples: number | string,
  mean: number,
  stddev: number,
]

/** Customers per query: bounds the memory of one query and of its result whatever the number of customers. */
export const CUSTOMERS_PER_CHUNK = 20_000
const EXTERNAL_GROUP_BY_BYTES = 50_000_000

/**
 * Every series in chunks of customer-id ranges (the table's sort key, so each query reads only its range):
 * 2 x ceil(customers / CUSTOMERS_PER_CHUNK) queries plus one for the range bounds, never one per customer.
 */
export async function* seriesStatsForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  baselineDays: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk = CUSTOMERS_PER_CHUNK,
): AsyncGenerator<SeriesStats[]> {
  const bounds = await chunkBounds(client, database, customersPerChunk)
  for (let i = 0; i < bounds.length; i++) {
    const range = { from: bounds[i] as string, to: bounds[i + 1] ?? '' }
    const chunk: SeriesStats[] = []
    for (const aggregation of ['sum', 'max'] as const) {
      const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
      if (names.length === 0) continue
      const rows = await run('compute detection statistics', async () => {
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
      for (const [metric, customerId, current, samples, mean, stddev] of rows) {
        chunk.push({
          customerId,
          metric,
          currentValue: Number(current),
          mean: Number(mean),
          stddev: Number(stddev),
          samples: Number(samples),
        })
      }
    }
    yield chunk
  }
}

/** Lower bounds of customer-id ranges of `size` customers each; the first is '' (everything from the start). */
async function chunkBounds(client: ClickHouseClient, database: string, size: number): Promise<string[]> {
  const rows = await run('split customers into chunks', async () => {
    const result = await client.query({
      query: `SELECT arrayFilter((id, i) -> i > 1 AND (i - 1) % {size:UInt32} = 0, ids, arrayEnumerate(ids))
        FROM (SELECT arraySort(groupUniqArray(customer_id)) AS ids FROM {db:Identifier}.usage_first_seen)`,
      query_params: { db: database, size },
      format: 'JSONCompactEachRow',
    })
    return result.json<[string[]]>()
  })
  return ['', ...(rows[0]?.[0] ?? [])]
}

async function run<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new StoreError(`ClickHouse failed to ${what}: ${(err as Error).message}`, [], { cause: err })
  }
}
