import { HOUR_MS } from '../../domain/time.js'
import { clickhouseTime } from './errors.js'

/** One event in a batch payload written before migration 5: [customer, metric, timestamp ms, value, event id or '']. */
export type PayloadRow = [string, string, number, number, string]

type InsertRows = (
  table: string,
  columns: readonly [string, ...string[]],
  rows: readonly unknown[][],
  token: string,
) => Promise<void>

const RAW_COLUMNS = ['customer_id', 'metric', 'ts', 'value', 'event_id', 'batch_id'] as const
const HOURLY_COLUMNS = ['metric', 'customer_id', 'hour', 'sum_value', 'max_value', 'events'] as const
const FIRST_SEEN_COLUMNS = ['metric', 'customer_id', 'first_hour'] as const

/**
 * Completes a batch that code before migration 5 left pending (its events as a JSON payload on the batch row):
 * raw events, rollup and first-seen written as that code wrote them, with the same rows and insert tokens, so
 * that the parts it wrote before the crash are dropped as duplicates and only the missing ones are added.
 */
export async function completeLegacyBatch(
  batchId: string,
  payload: readonly PayloadRow[],
  insertRows: InsertRows,
): Promise<void> {
  const hourly = new Map<
    string,
    [metric: string, customer: string, hour: number, sum: number, max: number, events: number]
  >()
  const firstSeen = new Map<string, [metric: string, customer: string, firstHour: number]>()
  const raw: unknown[][] = []
  for (const [customer, metric, tsMs, value, eventId] of payload) {
    raw.push([customer, metric, clickhouseTime(tsMs), value, eventId, batchId])
    const hour = Math.floor(tsMs / HOUR_MS) * (HOUR_MS / 1000)
    const cellKey = `${metric}\u0000${customer}\u0000${hour}`
    const cell = hourly.get(cellKey)
    if (cell) {
      cell[3] += value
      cell[4] = Math.max(cell[4], value)
      cell[5] += 1
    } else hourly.set(cellKey, [metric, customer, hour, value, value, 1])
    const seriesKey = `${metric}\u0000${customer}`
    const first = firstSeen.get(seriesKey)
    if (!first) firstSeen.set(seriesKey, [metric, customer, hour])
    else if (hour < first[2]) first[2] = hour
  }
  await insertRows('usage_events', RAW_COLUMNS, raw, `${batchId}:raw`)
  await insertRows('usage_hourly', HOURLY_COLUMNS, [...hourly.values()], `${batchId}:hourly`)
  await insertRows('usage_first_seen', FIRST_SEEN_COLUMNS, [...firstSeen.values()], `${batchId}:first`)
}
