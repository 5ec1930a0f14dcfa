import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation } from '../../domain/metrics.js'
import { StoreError } from '../../errors.js'
import type { SeriesStats } from '../../ports.js'

const DAY_MS = 86_400_000

/**
 * Current value and baseline statistics of every series (customer x metric) for one slot, in one scan of the
 * hourly rollup. The window of slot S is [S - 24 h, S); sample k (1..K) is the window shifted back k days,
 * counted only from the series' first hour; a sample without rows is a real zero. Grouping follows the table's
 * sort key, so the aggregation streams instead of holding every series in memory.
 */
const SQL = (mapFunction: 'sumMap' | 'maxMap', valueColumn: 'sum_value' | 'max_value') => `
  SELECT metric, customer_id, current_value, samples, mean,
    if(samples = 0, 0, scale * sqrt(arrayAvg(arrayMap(x -> pow(x / scale - mean / scale, 2), sample_values)))) AS stddev
  FROM (
    SELECT metric, customer_id,
      arrayMap(i -> if(has(km.1, i), km.2[indexOf(km.1, i)], 0), range(0, {k:UInt32} + 1)) AS by_day,
      by_day[1] AS current_value,
      arrayFilter((v, i) -> {slot:Int64} - (toInt64(i) + 1) * ${DAY_MS} >= first_ms, arraySlice(by_day, 2), range(1, {k:UInt32} + 1)) AS sample_values,
      length(sample_values) AS samples,
      if(samples = 0, 0, arrayAvg(sample_values)) AS mean,
      greatest(arrayMax(arrayMap(x -> abs(x), arrayPushBack(sample_values, 0))), 1e-300) AS scale
    FROM (
      SELECT metric, customer_id, ${mapFunction}([k], [v]) AS km
      FROM (
        SELECT metric, customer_id,
          toUInt32(intDiv({slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000, ${DAY_MS})) AS k,
          ${valueColumn} AS v
        FROM {db:Identifier}.usage_hourly
        WHERE metric IN {metrics:Array(String)}
          AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      )
      GROUP BY metric, customer_id
    ) AS a
    INNER JOIN (
      SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms
      FROM {db:Identifier}.usage_first_seen
      WHERE metric IN {metrics:Array(String)}
      GROUP BY metric, customer_id
    ) AS f USING (metric, customer_id)
  )`

interface Row {
  metric: string
  customer_id: string
  current_value: number
  samples: number | string
  mean: number
  stddev: number
}

export async function seriesStatsForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  baselineDays: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
): Promise<SeriesStats[]> {
  const out: SeriesStats[] = []
  for (const aggregation of ['sum', 'max'] as const) {
    const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
    if (names.length === 0) continue
    const query = aggregation === 'sum' ? SQL('sumMap', 'sum_value') : SQL('maxMap', 'max_value')
    try {
      const result = await client.query({
        query,
        query_params: {
          db: database,
          slot: slotMs,
          k: baselineDays,
          lo: slotMs - (baselineDays + 1) * DAY_MS,
          metrics: names,
        },
        format: 'JSONEachRow',
        clickhouse_settings: { optimize_aggregation_in_order: 1 },
      })
      for (const row of await result.json<Row>()) {
        out.push({
          customerId: row.customer_id,
          metric: row.metric,
          currentValue: Number(row.current_value),
          mean: Number(row.mean),
          stddev: Number(row.stddev),
          samples: Number(row.samples),
        })
      }
    } catch (err) {
      throw new StoreError(
        `ClickHouse failed to compute detection statistics: ${(err as Error).message}`,
        [],
        {
          cause: err,
        },
      )
    }
  }
  return out
}
