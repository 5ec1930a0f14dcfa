import type { ClickHouseClient } from '@clickhouse/client'
import { chunkBounds } from '../src/adapters/clickhouse/series-windows.js'
import type { Aggregation } from '../src/domain/metrics.js'
import type { CustomerRange } from '../src/domain/shard.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'
import type { SeriesWindows } from '../src/ports.js'

// The job's reads as they were before the one-scan query (main at eb60e01, series-windows.ts and recent-hours.ts):
// a conditional aggregate per day, then a second scan for the recent hours as (index, value) pairs folded in JS.
// Kept here, unchanged, as the reference the one-scan windows are compared with (one-scan-windows.test.ts).

const WINDOWS_SQL = (aggregation: Aggregation, days: number) => {
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

const RECENT_SQL = (aggregation: Aggregation) => {
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  return `
  SELECT metric, customer_id, groupArray(idx) AS idxs, groupArray(${column}) AS vals
  FROM (
    SELECT metric, customer_id, ${column},
      toUInt32(intDiv({slot:Int64} - ${HOUR_MS} - 1 - toInt64(toUnixTimestamp(hour)) * 1000, ${HOUR_MS})) AS idx
    FROM {db:Identifier}.usage_hourly
    WHERE metric IN {metrics:Array(String)}
      AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
      AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC')
      AND hour < toDateTime(intDiv({hi:Int64}, 1000), 'UTC')
  )
  GROUP BY metric, customer_id`
}

async function rows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' })
  return result.json<T>()
}

/** The series windows of `shard` as the two-query path computed them, chunk by chunk. */
export async function twoScanWindows(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  baselineDays: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk: number,
  shard: CustomerRange,
  recentHours: number,
): Promise<SeriesWindows[][]> {
  const out: SeriesWindows[][] = []
  const bounds = await chunkBounds(client, database, customersPerChunk, shard)
  for (let i = 0; i < bounds.length; i++) {
    const range = { from: bounds[i] as string, to: bounds[i + 1] ?? shard.to }
    const chunk: SeriesWindows[] = []
    for (const aggregation of ['sum', 'max'] as const) {
      const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
      if (names.length === 0) continue
      const params = {
        db: database,
        slot: slotMs,
        lo: slotMs - (baselineDays + 1) * DAY_MS,
        metrics: names,
        ...range,
      }
      type Row = [string, string, number | string, number[], number[]]
      for (const [metric, customerId, firstMs, daily, hourly] of await rows<Row>(
        client,
        WINDOWS_SQL(aggregation, baselineDays),
        params,
      )) {
        chunk.push({ customerId, metric, slot: slotMs, firstHourMs: Number(firstMs), daily, hourly })
      }
    }
    if (recentHours > 0) {
      const recent = new Map<string, number[]>()
      for (const aggregation of ['sum', 'max'] as const) {
        const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
        if (names.length === 0) continue
        const params = {
          db: database,
          slot: slotMs,
          lo: slotMs - (recentHours + 1) * HOUR_MS,
          hi: slotMs - HOUR_MS,
          metrics: names,
          ...range,
        }
        const fold = aggregation === 'sum' ? (a: number, b: number) => a + b : Math.max
        type Row = [string, string, number[], (number | string)[]]
        for (const [metric, customerId, idxs, vals] of await rows<Row>(
          client,
          RECENT_SQL(aggregation),
          params,
        )) {
          const values = new Array<number>(recentHours).fill(0)
          const seen = new Array<boolean>(recentHours).fill(false)
          idxs.forEach((j, k) => {
            const value = Number(vals[k])
            values[j] = seen[j] ? fold(values[j] as number, value) : value
            seen[j] = true
          })
          recent.set(`${customerId}\u0000${metric}`, values)
        }
      }
      for (const s of chunk) s.recent = recent.get(`${s.customerId}\u0000${s.metric}`) ?? []
    }
    out.push(chunk)
  }
  return out
}
