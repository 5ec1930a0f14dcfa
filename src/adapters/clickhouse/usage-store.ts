import { createHash } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import type { UsageEvent } from '../../domain/events.js'
import type { Aggregation } from '../../domain/metrics.js'
import { isHourAligned } from '../../domain/time.js'
import type { TimeWindow } from '../../domain/windows.js'
import type { InsertResult, SeriesWindows, UsageStore, WindowAggregate } from '../../ports.js'
import { clickhouseTime, withStoreError } from './errors.js'
import { CUSTOMERS_PER_CHUNK, seriesWindowsForSlot } from './series-windows.js'

const ROLLUP_WINDOWS_SQL = `
  SELECT idx, sum(s) AS total, max(m) AS peak, sum(n) AS events FROM (
    SELECT arrayFirstIndex((a, b) -> t >= a AND t < b, {starts:Array(Int64)}, {ends:Array(Int64)}) AS idx,
      sum_value AS s, max_value AS m, events AS n
    FROM (
      SELECT toInt64(toUnixTimestamp(hour)) * 1000 AS t, sum_value, max_value, events
      FROM {db:Identifier}.usage_hourly
      WHERE metric = {metric:String} AND customer_id = {customer:String}
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({hi:Int64} + 999, 1000), 'UTC')
    )
  ) WHERE idx > 0 GROUP BY idx`

// Windows that do not start and end on the hour cannot be answered by the rollup: read raw events.
const RAW_WINDOWS_SQL = `
  SELECT idx, sum(value) AS total, max(value) AS peak, count() AS events FROM (
    SELECT arrayFirstIndex((a, b) -> t >= a AND t < b, {starts:Array(Int64)}, {ends:Array(Int64)}) AS idx, value
    FROM (
      SELECT toUnixTimestamp64Milli(ts) AS t, value
      FROM {db:Identifier}.usage_events
      WHERE metric = {metric:String} AND customer_id = {customer:String}
        AND ts >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({hi:Int64}, 'UTC')
    )
  ) WHERE idx > 0 GROUP BY idx`

interface WindowRow {
  idx: number
  total: number
  peak: number
  events: string | number
}

export class ClickHouseUsageStore implements UsageStore {
  // Serialises "which ids exist?" + insert within this process so that two concurrent batches
  // carrying the same event id cannot both pass the check.
  private insertQueue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly customersPerChunk = CUSTOMERS_PER_CHUNK,
  ) {}

  insertEvents(events: readonly UsageEvent[]): Promise<InsertResult> {
    const run = this.insertQueue.then(() => this.insertUnlocked(events))
    this.insertQueue = run.catch(() => undefined)
    return run
  }

  private async insertUnlocked(events: readonly UsageEvent[]): Promise<InsertResult> {
    const known = await this.storedEventIds(events)
    const fresh = events.filter((e) => e.eventId === null || !known.has(e.eventId))
    if (fresh.length === 0) return { inserted: 0, alreadyStored: events.length }
    const rows = fresh.map((e) => ({
      customer_id: e.customerId,
      metric: e.metric,
      ts: clickhouseTime(e.timestampMs),
      value: e.value,
      event_id: e.eventId ?? '',
    }))
    // The same rows sent again (a client retry of a batch without event ids) hash to the same token and are
    // dropped by block deduplication in the raw table and in the rollup alike.
    const token = createHash('sha256').update(JSON.stringify(rows)).digest('hex')
    await withStoreError('insert usage events', () =>
      this.client.insert({
        table: `${this.database}.usage_events`,
        values: rows,
        format: 'JSONEachRow',
        clickhouse_settings: {
          insert_deduplication_token: token,
          deduplicate_blocks_in_dependent_materialized_views: 1,
          max_partitions_per_insert_block: '1000',
        },
      }),
    )
    return { inserted: fresh.length, alreadyStored: events.length - fresh.length }
  }

  private async storedEventIds(events: readonly UsageEvent[]): Promise<Set<string>> {
    const withId = events.filter((e) => e.eventId !== null)
    if (withId.length === 0) return new Set()
    let lo = Number.POSITIVE_INFINITY
    let hi = Number.NEGATIVE_INFINITY
    for (const e of withId) {
      lo = Math.min(lo, e.timestampMs)
      hi = Math.max(hi, e.timestampMs)
    }
    // A re-sent event carries its original customer, metric and timestamp: bounding by them lets the
    // primary key and partitions prune instead of scanning every stored id.
    const rows = await this.select<{ event_id: string }>(
      'look up stored event ids',
      `SELECT DISTINCT event_id FROM {db:Identifier}.usage_events
       WHERE metric IN {metrics:Array(String)} AND customer_id IN {customers:Array(String)}
         AND ts >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND ts <= fromUnixTimestamp64Milli({hi:Int64}, 'UTC')
         AND event_id IN {ids:Array(String)}`,
      {
        metrics: [...new Set(withId.map((e) => e.metric))],
        customers: [...new Set(withId.map((e) => e.customerId))],
        lo,
        hi,
        ids: withId.map((e) => e.eventId as string),
      },
    )
    return new Set(rows.map((r) => r.event_id))
  }

  async aggregateWindows(
    customerId: string,
    metric: string,
    aggregation: Aggregation,
    windows: readonly TimeWindow[],
  ): Promise<WindowAggregate[]> {
    if (windows.length === 0) return []
    const aligned = windows.every((w) => isHourAligned(w.startMs) && isHourAligned(w.endMs))
    const rows = await this.select<WindowRow>(
      'aggregate usage windows',
      aligned ? ROLLUP_WINDOWS_SQL : RAW_WINDOWS_SQL,
      {
        metric,
        customer: customerId,
        starts: windows.map((w) => w.startMs),
        ends: windows.map((w) => w.endMs),
        lo: Math.min(...windows.map((w) => w.startMs)),
        hi: Math.max(...windows.map((w) => w.endMs)),
      },
    )
    const result: WindowAggregate[] = windows.map(() => ({ value: 0, events: 0 }))
    for (const row of rows) {
      result[Number(row.idx) - 1] = {
        value: aggregation === 'sum' ? Number(row.total) : Number(row.peak),
        events: Number(row.events),
      }
    }
    return result
  }

  async firstEventHour(customerId: string, metric: string): Promise<number | null> {
    const rows = await this.select<{ first: string | number | null }>(
      'find first event',
      `SELECT toInt64(toUnixTimestamp(minOrNull(first_hour))) * 1000 AS first FROM {db:Identifier}.usage_first_seen
       WHERE metric = {metric:String} AND customer_id = {customer:String}`,
      { metric, customer: customerId },
    )
    const first = rows[0]?.first
    return first === null || first === undefined ? null : Number(first)
  }

  seriesWindows(
    slotMs: number,
    baselineDays: number,
    metrics: readonly { name: string; aggregation: Aggregation }[],
  ): AsyncIterable<SeriesWindows[]> {
    return seriesWindowsForSlot(
      this.client,
      this.database,
      slotMs,
      baselineDays,
      metrics,
      this.customersPerChunk,
    )
  }

  async countEvents(): Promise<number> {
    const rows = await this.select<{ n: string }>(
      'count events',
      'SELECT count() AS n FROM {db:Identifier}.usage_events',
      {},
    )
    return Number(rows[0]?.n ?? 0)
  }

  async ping(): Promise<void> {
    await this.select('ping', 'SELECT 1 AS ok', {})
  }

  async close(): Promise<void> {
    await this.insertQueue
    await this.client.close()
  }

  private async select<T>(what: string, query: string, params: Record<string, unknown>): Promise<T[]> {
    return withStoreError(what, async () => {
      const result = await this.client.query({
        query,
        query_params: { db: this.database, ...params },
        format: 'JSONEachRow',
      })
      return result.json<T>()
    })
  }
}
