import type { ClickHouseClient } from '@clickhouse/client'
import type { UsageEvent } from '../../domain/events.js'
import type { Aggregation } from '../../domain/metrics.js'
import { type CustomerRange, isSingleCustomer } from '../../domain/shard.js'
import { isHourAligned } from '../../domain/time.js'
import type { TimeWindow } from '../../domain/windows.js'
import { BusyError, StoreError, ValidationError } from '../../errors.js'
import type {
  IdempotencyKey,
  InsertResult,
  ProfileChunk,
  SeriesProfiles,
  SeriesWindowReads,
  SeriesWindows,
  UsageStore,
  WindowAggregate,
  WindowHistory,
  WindowHistoryRequest,
} from '../../ports.js'
import { type HistoryCache, historyCacheOf } from './history-cache.js'
import { IngestLedger } from './ingest-ledger.js'
import { historiesJoin, QueryBatcher } from './query-batch.js'
import { selectRows } from './select.js'
import { CUSTOMERS_PER_CHUNK, customerRangesOf, seriesWindowsForSlot } from './series-windows.js'
import {
  type CustomerProfilesRequest,
  checkProfileRequest,
  customersProfiles,
  sameProfileWindows,
  shapeProfilesForSlot,
} from './shape-profiles.js'
import { checkWindowHistoryRequest, onTheHour, readWindowHistories } from './window-history.js'

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

/** The most ranges customerRanges splits customers into (far above any sensible number of shards). */
export const MAX_CUSTOMER_RANGES = 10_000

/** Ingest batches one process holds at once (the one being written and those waiting); more get 503 + Retry-After. */
export const MAX_QUEUED_INSERTS = 8

export class ClickHouseUsageStore implements UsageStore {
  private readonly ledger: IngestLedger
  // Serialises ingest within this process: the stored-id lookup and the batch it decides must not interleave
  // with another batch carrying the same ids, and a repair must not race the write it completes.
  private insertQueue: Promise<unknown> = Promise.resolve()
  /** A write failed part-way in this process: complete it before the next read or write. */
  private needsRepair = true
  private queuedInserts = 0
  private readonly histories: HistoryCache
  private readonly cacheHistories: boolean
  private readonly historyReads: QueryBatcher<WindowHistoryRequest, WindowHistory>
  /** One customer's profiles (the check's shape read), batched as the window histories are. */
  private readonly profileReads: QueryBatcher<CustomerProfilesRequest, SeriesProfiles[]>

  /**
   * `cacheHistories`: keep hour-aligned window histories until a write changes them (history-cache.ts); only when
   * this process owns the engine (embedded), never in front of a ClickHouse server other processes write to. The
   * same option batches the reads that wait for the embedded engine (query-batch.ts), which runs one at a time,
   * and keeps each series' first hour by the same rules (a window never asked before then reads one table, not two).
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly customersPerChunk = CUSTOMERS_PER_CHUNK,
    options: { cacheHistories?: boolean } = {},
  ) {
    this.cacheHistories = options.cacheHistories ?? false
    this.histories = historyCacheOf(database)
    this.historyReads = new QueryBatcher(
      (requests) =>
        readWindowHistories(client, database, requests, this.cacheHistories ? this.histories : null),
      this.cacheHistories,
      historiesJoin,
    )
    this.profileReads = new QueryBatcher(
      (requests) => customersProfiles(client, database, requests),
      this.cacheHistories,
      sameProfileWindows,
    )
    // A new store may follow writes this process did not see (another process had the data directory before).
    this.histories.clear()
    this.ledger = new IngestLedger(client, database, (series) => this.histories.writeStarts(series))
  }

  insertEvents(events: readonly UsageEvent[], idempotency?: IdempotencyKey): Promise<InsertResult> {
    // Each waiting batch holds its parsed body (up to 5 MiB of JSON): past a few, refuse at once rather than let
    // memory and client timeouts grow (a client that gave up would retry a batch still queued here).
    if (this.queuedInserts >= MAX_QUEUED_INSERTS) {
      return Promise.reject(
        new BusyError(
          `${this.queuedInserts} ingest batches are already waiting in this process: retry shortly`,
          1,
        ),
      )
    }
    this.queuedInserts++
    const done = () => {
      this.queuedInserts--
    }
    const result = this.serialized(async () => {
      await this.repairIfNeeded()
      try {
        return await this.ledger.insert(events, idempotency)
      } catch (err) {
        if (err instanceof StoreError) this.needsRepair = true
        throw err
      }
    })
    result.then(done, done)
    return result
  }

  repair(): Promise<number> {
    return this.serialized(async () => {
      const completed = await this.ledger.repair()
      this.needsRepair = false
      return completed
    })
  }

  private async repairIfNeeded(): Promise<void> {
    if (!this.needsRepair) return
    await this.ledger.repair()
    this.needsRepair = false
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.insertQueue.then(work)
    this.insertQueue = run.catch(() => undefined)
    return run
  }

  /** Reads wait for a repair this process owes, so that no half-stored batch is ever read. */
  private async readable(): Promise<void> {
    if (this.needsRepair) await this.serialized(() => this.repairIfNeeded())
  }

  async aggregateWindows(
    customerId: string,
    metric: string,
    aggregation: Aggregation,
    windows: readonly TimeWindow[],
  ): Promise<WindowAggregate[]> {
    if (windows.length === 0) return []
    await this.readable()
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
    await this.readable()
    const rows = await this.select<{ first: string | number | null }>(
      'find first event',
      `SELECT toInt64(toUnixTimestamp(minOrNull(first_hour))) * 1000 AS first FROM {db:Identifier}.usage_first_seen
       WHERE metric = {metric:String} AND customer_id = {customer:String}`,
      { metric, customer: customerId },
    )
    const first = rows[0]?.first
    return first === null || first === undefined ? null : Number(first)
  }

  async windowHistory(request: WindowHistoryRequest): Promise<WindowHistory> {
    checkWindowHistoryRequest(request)
    await this.readable()
    const read = () => this.historyReads.read(request)
    // Windows not on the hour are the default "24 h up to now": never asked twice, so not kept.
    return this.cacheHistories && onTheHour(request) ? this.histories.read(request, read) : read()
  }

  async *seriesWindows(
    slotMs: number,
    baselineDays: number,
    metrics: readonly { name: string; aggregation: Aggregation }[],
    range?: CustomerRange,
    reads: SeriesWindowReads = {},
  ): AsyncIterable<SeriesWindows[]> {
    // A run may follow another process's crash (a shared ClickHouse server): complete its batches first.
    await this.repair()
    yield* seriesWindowsForSlot(
      this.client,
      this.database,
      slotMs,
      baselineDays,
      metrics,
      this.customersPerChunk,
      range,
      reads,
    )
  }

  async *shapeProfiles(
    slotMs: number,
    weeks: number,
    metrics: readonly { name: string; aggregation: Aggregation }[],
    range?: CustomerRange,
  ): AsyncIterable<ProfileChunk> {
    await this.readable()
    if (range && isSingleCustomer(range)) {
      // One customer (the check): its read waits with the others' for the engine and shares their query.
      checkProfileRequest(slotMs, weeks)
      yield {
        range,
        profiles: await this.profileReads.read({ slotMs, weeks, metrics, customerId: range.from }),
      }
      return
    }
    yield* shapeProfilesForSlot(
      this.client,
      this.database,
      slotMs,
      weeks,
      metrics,
      this.customersPerChunk,
      range,
    )
  }

  async customerRanges(count: number): Promise<CustomerRange[]> {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_CUSTOMER_RANGES) {
      const reason = `must be an integer between 1 and ${MAX_CUSTOMER_RANGES}, got ${String(count)}`
      throw new ValidationError(`invalid number of customer ranges: ${reason}`, [{ field: 'count', reason }])
    }
    await this.readable()
    return customerRangesOf(this.client, this.database, count)
  }

  async countEvents(): Promise<number> {
    await this.readable()
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
    // The last batch's commit row (see IngestLedger.flush); if it cannot be written, the next open completes the
    // batch from the ledger instead, adding nothing.
    await this.serialized(() => this.ledger.flush()).catch(() => undefined)
    this.histories.clear()
    await this.client.close()
  }

  private select<T>(what: string, query: string, params: Record<string, unknown>): Promise<T[]> {
    return selectRows<T>(this.client, this.database, what, query, params)
  }
}
