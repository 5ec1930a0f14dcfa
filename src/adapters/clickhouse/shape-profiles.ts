import type { ClickHouseClient } from '@clickhouse/client'
import { inRange } from '../../domain/limits.js'
import type { Aggregation } from '../../domain/metrics.js'
import { ALL_CUSTOMERS, type CustomerRange, isSingleCustomer } from '../../domain/shard.js'
import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { SHAPE_SETTINGS } from '../../domain/signals/shape/shape-settings.js'
import { DAY_MS, HOUR_MS } from '../../domain/time.js'
import { ValidationError } from '../../errors.js'
import type { SeriesProfiles } from '../../ports.js'
import { withStoreError } from './errors.js'
import { CUSTOMERS_PER_CHUNK, chunkBounds } from './series-windows.js'

const WEEK_MS = 7 * DAY_MS

/**
 * The 24-hour profiles of every series for slot S from the hourly rollup: week k = 0..K is the window
 * [S - k weeks - 24 h, S - k weeks), one flat array of (K + 1) x 24 values laid out week by week, oldest hour first
 * (`groupArrayInsertAt`: hours without rows stay 0). An hour of the rollup can still sit in several unmerged parts,
 * so the inner query first adds them up per hour. `age` counts back from the slot's last hour: its week is k and,
 * when the remainder is under a day, it lies in week k's window at index 23 - remainder in hours. The array size is
 * structure derived from the validated integer K, not a value.
 */
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

/**
 * Every series of the customers in `shard` with usage in any of the windows, in chunks of customer-id ranges:
 * one query per chunk and aggregation (plus one for the chunk bounds), never one per customer. One customer (the
 * on-demand check) is one chunk: no bounds query.
 */
export async function* shapeProfilesForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  weeks: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk = CUSTOMERS_PER_CHUNK,
  shard: CustomerRange = ALL_CUSTOMERS,
): AsyncGenerator<SeriesProfiles[]> {
  checkProfileRequest(slotMs, weeks)
  const bounds = isSingleCustomer(shard)
    ? [shard.from]
    : await chunkBounds(client, database, customersPerChunk, shard)
  for (let i = 0; i < bounds.length; i++) {
    const range = { from: bounds[i] as string, to: bounds[i + 1] ?? shard.to }
    const chunk: SeriesProfiles[] = []
    for (const aggregation of ['sum', 'max'] as const) {
      const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
      if (names.length === 0) continue
      const rows = await withStoreError('compute usage profiles', async () => {
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
        return result.json<Row>()
      })
      for (const [metric, customerId, flat] of rows) {
        const days = Array.from({ length: weeks + 1 }, (_, k) =>
          flat.slice(k * PROFILE_HOURS, (k + 1) * PROFILE_HOURS).map(Number),
        )
        chunk.push({ customerId, metric, slot: slotMs, current: days[0] ?? [], baseline: days.slice(1) })
      }
    }
    yield chunk
  }
}

function checkProfileRequest(slotMs: number, weeks: number): void {
  // 0 weeks is the window alone (the Redis shape index reads the recent days so).
  const range = { ...SHAPE_SETTINGS.baselineWeeks.range, min: 0 }
  if (!inRange(weeks, range)) {
    const reason = `must be an integer in ${range.min}..${range.max}, got ${String(weeks)}`
    throw new ValidationError(`invalid number of baseline weeks: ${reason}`, [{ field: 'weeks', reason }])
  }
  if (!Number.isSafeInteger(slotMs) || slotMs % HOUR_MS !== 0) {
    const reason = `must be a whole hour in epoch ms, got ${String(slotMs)}`
    throw new ValidationError(`invalid slot: ${reason}`, [{ field: 'slot', reason }])
  }
}
