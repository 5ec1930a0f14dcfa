import type { SeriesHistory } from '../domain/detector.js'
import type { UsageEvent } from '../domain/events.js'
import type { Aggregation, MetricDefinition } from '../domain/metrics.js'
import type { CustomerRange } from '../domain/shard.js'
import type { Profile } from '../domain/signals/shape/profile.js'
import type { TimeWindow } from '../domain/windows.js'

// The usage side: what the app asks of the usage store (ClickHouse), of the metric registry and of a VectorIndex.

export interface WindowAggregate {
  /** The metric's aggregate over the window (0 when the window holds no events). */
  value: number
  events: number
}

export interface WindowHistoryRequest {
  customerId: string
  metric: string
  aggregation: Aggregation
  window: TimeWindow
  stepMs: number
  count: number
}

export interface WindowHistory {
  /** Start of the series' first hour with an event, or null if none. */
  firstEventHourMs: number | null
  /** aggregates[k]: the window shifted back k steps (0 = the window itself), k = 0..count. */
  aggregates: WindowAggregate[]
}

/** A request-level idempotency key (the `Idempotency-Key` header) and the fingerprint of the request it names. */
export interface IdempotencyKey {
  key: string
  /** Whose key it is (the API key id; '' without authentication): one caller's key never names another's batch. */
  scope: string
  fingerprint: string
}

export interface InsertResult {
  inserted: number
  /** Positions (in the events given) whose event_id the store already held with the same content. */
  alreadyStored: number[]
  /** Positions whose event_id the store already held with other content: not stored, not counted. */
  conflicts: number[]
  /** The idempotency key named a request already stored: nothing was added. */
  replayed: boolean
}

/** One series' per-day windows for a detection slot (see SeriesHistory). */
export interface SeriesWindows extends SeriesHistory {
  customerId: string
  metric: string
  /**
   * Asked for with the windows (seriesWindows' shapeWeeks): the series' shape profiles from the same scan, as
   * shapeProfiles gives them; null without usage in any of their windows (no shape verdict).
   */
  profiles?: ProfileViews | null
}

/** A series' profiles as the shape signal reads them (SeriesProfiles' or views of a store's reply). */
export interface ProfileViews {
  current: Profile
  /** Week 1 (the most recent) first. */
  baseline: readonly Profile[]
}

/**
 * What a detection read carries beyond each series' day windows: each is one more aggregate over every row the engine
 * reads, so the job asks only for what a detector in use needs (evaluate-range.ts, windowReadsNeeded).
 */
export interface SeriesWindowReads {
  /** > 0: each series also carries the `recentHours` hours before the slot's last hour (the recent window). */
  recentHours?: number
  /**
   * true (default): `hourly` holds the same hour on every day of the baseline (the hour window). false: `hourly` holds
   * the current hour alone (index 0, what the recent window judges).
   */
  hourWindow?: boolean
  /** Not null: each series also carries its shape profiles over this many baseline weeks (`profiles`). */
  shapeWeeks?: number | null
}

/**
 * One series' 24-hour profiles for a shape check at `slot` (signals/shape/profile.ts): the run's window
 * [slot - 24 h, slot) and the same 24 hours 1..N weeks earlier, 24 hourly values each (0 for hours without usage).
 */
export interface SeriesProfiles {
  customerId: string
  metric: string
  slot: number
  current: number[]
  /** Week 1 (the most recent) first. */
  baseline: number[][]
  /**
   * The best cosine among the usable baseline days as the index's own similarity search found it (Redis VSIM, see
   * ShapeProfileRequest.nearest); absent when the index did not search.
   */
  nearestSimilarity?: number
}

/** One chunk of a range's profiles: the consecutive customer range it covers and its series' profiles. */
export interface ProfileChunk {
  range: CustomerRange
  profiles: SeriesProfiles[]
}

/** What the job's shape step asks a VectorIndex for one chunk of series. */
export interface ShapeProfileRequest {
  /** The run's slot (a whole hour): the window is [slot - 24 h, slot). */
  slot: number
  /** Baseline weeks (the shape signal's baseline_weeks). */
  weeks: number
  metrics: readonly { name: string; aggregation: Aggregation }[]
  /** The chunk's customers (rangeCovering of its series). */
  range: CustomerRange
  /** The chunk's series: an index that stores per series (Redis) reads exactly these. */
  series: readonly { customerId: string; metric: string }[]
  /**
   * Set when the verdict uses the nearest-day variant: an index with its own similarity search may answer
   * `nearestSimilarity` over the days the shape signal keeps (positive total, at least minDailyVolume).
   */
  nearest: { minDailyVolume: number } | null
}

/**
 * Where the job's shape step gets each series' 24-hour profiles: the run's window and the same window on the same
 * weekday of previous weeks (docs/decisions.md, Shape VectorIndex). `embedded` reads them from the hourly rollup;
 * `redis` keeps one vector set of day vectors per series and reads the rollup only for the recent days and for
 * days Redis lacks. Both give the same profiles (within float32 rounding), so the same verdicts.
 */
export interface VectorIndex {
  readonly kind: string
  /** Profiles of the request's series with usage in any of the windows (the others are absent), in chunks. */
  profiles(request: ShapeProfileRequest): AsyncIterable<SeriesProfiles[]>
  /**
   * True when the profiles are the usage store's own (embedded): the job then reads them in its windows' scan
   * (UsageStore.seriesWindows' shapeWeeks) instead of scanning the rollup a second time.
   */
  readonly fromUsageScan?: boolean
  close(): Promise<void>
}

export interface UsageStore {
  /**
   * Inserts a validated batch durably, with every table derived from raw events, as one
   * unit: a crash at any instant leaves the batch either absent or completed by `repair` before anything reads it.
   * An event id is stored once: later events with it (stored before, or earlier in the batch) are duplicates when
   * they say the same, conflicts otherwise (neither is stored). With an idempotency key the whole request is stored at most
   * once; the same key with another fingerprint throws IdempotencyKeyReusedError.
   */
  insertEvents(events: readonly UsageEvent[], idempotency?: IdempotencyKey): Promise<InsertResult>
  /** Completes every batch a crash or a failed write left half-stored; returns how many it completed. */
  repair(): Promise<number>
  /**
   * Aggregates one customer's metric over each window (non-overlapping), in the order given.
   * Hour-aligned windows are answered from the hourly rollup.
   */
  aggregateWindows(
    customerId: string,
    metric: string,
    aggregation: Aggregation,
    windows: readonly TimeWindow[],
  ): Promise<WindowAggregate[]>
  /** Start of the first hour holding an event of this customer and metric, or null if none. */
  firstEventHour(customerId: string, metric: string): Promise<number | null>
  /**
   * One series' window and the same window shifted back by `stepMs` (at least the window's length) 1..count times,
   * with the series' first event hour, in one read (the on-demand check's whole history). Hour-aligned windows are
   * answered from the hourly rollup.
   */
  windowHistory(request: WindowHistoryRequest): Promise<WindowHistory>
  /**
   * Every series with usage in the slot's baseline period: the slot's 24 h window and its daily baseline samples,
   * in chunks of customers, each chunk from a few queries over all its customers (never one per customer).
   */
  seriesWindows(
    slotMs: number,
    baselineDays: number,
    metrics: readonly { name: string; aggregation: Aggregation }[],
    range?: CustomerRange,
    reads?: SeriesWindowReads,
  ): AsyncIterable<SeriesWindows[]>
  /**
   * Every series with usage in the slot's window or its `weeks` same-weekday windows: their 24-hour profiles, in
   * chunks of consecutive customer ranges in order, one query per chunk (never one per customer), the next chunk
   * read while the caller takes this one. `weeks` is 0 (the window alone) up to the shape signal's largest
   * baseline_weeks; a bad value is a ValidationError.
   */
  shapeProfiles(
    slotMs: number,
    weeks: number,
    metrics: readonly { name: string; aggregation: Aggregation }[],
    range?: CustomerRange,
  ): AsyncIterable<ProfileChunk>
  /**
   * Splits the customers with usage into at most `count` consecutive ranges of about equal numbers of customers,
   * covering every customer id (the first starts at '', the last runs to the end): the shards of a sharded run.
   */
  customerRanges(count: number): Promise<CustomerRange[]>
  countEvents(): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface MetricStore {
  list(): Promise<MetricDefinition[]>
  save(metric: MetricDefinition): Promise<void>
}
