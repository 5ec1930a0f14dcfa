import type { ClickHouseClient } from '@clickhouse/client'
import { chunkBounds } from '../src/adapters/clickhouse/series-windows.js'
import type { Aggregation } from '../src/domain/metrics.js'
import { ALL_CUSTOMERS, type CustomerRange, isSingleCustomer } from '../src/domain/shard.js'
import { PROFILE_HOURS } from '../src/domain/signals/shape/profile.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'
import type { ProfileChunk, SeriesProfiles } from '../src/ports.js'

// The shape profiles' read as it was before the one-scan query (main at 4992d97, shape-profiles.ts): each hour
// grouped first, then placed with groupArrayInsertAt, read as JSONCompactEachRow, chunk after chunk without reading
// ahead. Kept here, unchanged, as the reference the one-scan profiles are compared with (one-scan-profiles.test.ts).

const WEEK_MS = 7 * DAY_MS

const SQL = (aggregation: Aggregation, weeks: number) => {
  const merge = aggregation === 'sum' ? 'sum(sum_value)' : 'max(max_value)'
  return `
  SELECT metric, customer_id,
    groupArrayInsertAt(0, ${(weeks + 1) * PROFILE_HOURS})(value, toUInt32(k * ${PROFILE_HOURS} + idx)) AS profiles
  FROM (
    SELECT metric, customer_id, value,
      {slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
      intDiv(age, ${WEEK_MS}) AS k,
      ${PROFILE_HOURS - 1} - intDiv(age % ${WEEK_MS}, ${HOUR_MS}) AS idx
    FROM (
      SELECT metric, customer_id, hour, ${merge} AS value
      FROM {db:Identifier}.usage_hourly
      WHERE metric IN {metrics:Array(String)}
        AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      GROUP BY metric, customer_id, hour
    )
    WHERE age % ${WEEK_MS} < ${DAY_MS}
  )
  GROUP BY metric, customer_id`
}

type Row = [metric: string, customerId: string, profiles: number[]]

/** The profiles of `shard` as the groupArrayInsertAt read computed them, chunk by chunk (with each chunk's range). */
export async function insertAtProfiles(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  weeks: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk: number,
  shard: CustomerRange = ALL_CUSTOMERS,
): Promise<ProfileChunk[]> {
  const bounds = isSingleCustomer(shard)
    ? [shard.from]
    : await chunkBounds(client, database, customersPerChunk, shard)
  const out: ProfileChunk[] = []
  for (let i = 0; i < bounds.length; i++) {
    const range = { from: bounds[i] as string, to: bounds[i + 1] ?? shard.to }
    const chunk: SeriesProfiles[] = []
    for (const aggregation of ['sum', 'max'] as const) {
      const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
      if (names.length === 0) continue
      const result = await client.query({
        query: SQL(aggregation, weeks),
        query_params: {
          db: database,
          slot: slotMs,
          lo: slotMs - weeks * WEEK_MS - DAY_MS,
          metrics: names,
          ...range,
        },
        format: 'JSONCompactEachRow',
      })
      for (const [metric, customerId, flat] of await result.json<Row>()) {
        const days = Array.from({ length: weeks + 1 }, (_, k) =>
          flat.slice(k * PROFILE_HOURS, (k + 1) * PROFILE_HOURS).map(Number),
        )
        chunk.push({ customerId, metric, slot: slotMs, current: days[0] ?? [], baseline: days.slice(1) })
      }
    }
    out.push({ range, profiles: chunk })
  }
  return out
}
