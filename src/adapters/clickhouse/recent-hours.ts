import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation } from '../../domain/metrics.js'
import type { CustomerRange } from '../../domain/shard.js'
import { HOUR_MS } from '../../domain/time.js'
import { withStoreError } from './errors.js'

/** The recent window's largest baseline (DETECTOR_SETTINGS.recentHours' bound): a bounded scan and array. */
export const MAX_RECENT_HOURS = 720

/**
 * The `hours` hours before slot S's last hour of every series of a customer range: each series' rollup rows in those
 * hours as (index, value) pairs, index j - 1 for the hour [S - (j + 1) h, S - j h). An hour can still sit in several
 * unmerged parts of the rollup, so the pairs are folded (summed, or the max) in JS: a GROUP BY per series and hour
 * held a hash-table entry per hour with its string keys (measured: +590 MiB peak at 10k customers), the pairs cost
 * a few bytes each.
 */
const SQL = (aggregation: Aggregation) => {
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

type Row = [metric: string, customerId: string, idxs: number[], vals: (number | string)[]]

/** `${customerId}\u0000${metric}` -> the series' recent hours (series without usage in them are absent). */
export async function recentHoursForRange(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  hours: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  range: CustomerRange,
): Promise<Map<string, number[]>> {
  if (!Number.isSafeInteger(hours) || hours < 1 || hours > MAX_RECENT_HOURS) {
    throw new RangeError(`recent hours must be a whole number in 1..${MAX_RECENT_HOURS}, got ${hours}`)
  }
  const out = new Map<string, number[]>()
  for (const aggregation of ['sum', 'max'] as const) {
    const names = metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
    if (names.length === 0) continue
    const rows = await withStoreError('read recent hours', async () => {
      const result = await client.query({
        query: SQL(aggregation),
        query_params: {
          db: database,
          slot: slotMs,
          lo: slotMs - (hours + 1) * HOUR_MS,
          hi: slotMs - HOUR_MS,
          metrics: names,
          from: range.from,
          to: range.to,
        },
        format: 'JSONCompactEachRow',
      })
      return result.json<Row>()
    })
    const fold = aggregation === 'sum' ? (a: number, b: number) => a + b : Math.max
    for (const [metric, customerId, idxs, vals] of rows) {
      const recent = new Array<number>(hours).fill(0)
      const seen = new Array<boolean>(hours).fill(false)
      idxs.forEach((j, k) => {
        const value = Number(vals[k])
        recent[j] = seen[j] ? fold(recent[j] as number, value) : value
        seen[j] = true
      })
      out.set(`${customerId}\u0000${metric}`, recent)
    }
  }
  return out
}
