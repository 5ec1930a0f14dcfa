import type { Alert, AlertDelivery, DeliveryStatus, Mute } from './domain/alert.js'
import type { AnomalyQuery, AnomalyRecord, Page } from './domain/anomaly.js'
import type { ApiKeyRecord } from './domain/api-key.js'
import type { CustomerProfile } from './domain/customer.js'
import type { SeriesHistory } from './domain/detector.js'
import type { UsageEvent } from './domain/events.js'
import type { Incident, IncidentFeedback, IncidentStatus } from './domain/incident.js'
import type { IncidentSort } from './domain/list-sorts.js'
import type { Aggregation, MetricDefinition } from './domain/metrics.js'
import type { DetectionRun } from './domain/run.js'
import type { CustomerRange, ShardTask } from './domain/shard.js'
import type { Profile } from './domain/signals/shape/profile.js'
import type { SignalKind } from './domain/signals/signal-registry.js'
import type { Severity } from './domain/volume.js'
import type { TimeWindow } from './domain/windows.js'

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

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export interface IncidentQuery {
  status?: IncidentStatus
  customerId?: string
  metric?: string
  severity?: Severity
  /** Opened at or after (ms). */
  openedSince?: number
  /** Opened before (ms). */
  openedUntil?: number
  /** Opened by this signal or firing it at the latest verdict. */
  kind?: SignalKind
  /** Default newest opened first; a store keyed on time alone refuses the others (ValidationError on `sort`). */
  sort?: IncidentSort
  limit: number
  cursor?: string
}

export interface RunQuery {
  limit: number
  cursor?: string
}

/**
 * Where detections, incidents, runs and the customer registry live (SQLite embedded, DynamoDB in production).
 * Every write is idempotent so that a replayed or crashed run can be run again.
 */
export interface AnomalyStore {
  /** Stores records not yet stored (identity: customer, metric, detectedAt); returns how many were new. */
  putAnomalies(records: readonly AnomalyRecord[]): Promise<number>
  /**
   * By customer or by metric (one of them is required unless `listsAcrossMetrics`). In `query.sort` order (default
   * newest first); in a time order the order of records sharing a detected_at is the store's own. Expired records
   * (ttl in the past) are never returned.
   */
  queryAnomalies(query: AnomalyQuery): Promise<Page<AnomalyRecord>>
  /**
   * Whether queryAnomalies answers a query with neither customer nor metric, in every sort (SQLite: one table).
   * When false (DynamoDB: keyed by customer, or by metric in the GSI) the app merges one query per metric.
   */
  readonly listsAcrossMetrics: boolean

  /** Every incident with status open. */
  openIncidents(): Promise<Incident[]>
  /**
   * Upserts incidents; a write whose lastEvaluatedSlot is not newer than the stored one is ignored
   * (a replay must not roll an incident back), unless the stored one is a future slot (firstFutureSlot: written
   * by a run accepted before slots were checked, it would freeze the incident for good). Returns the ids
   * actually written.
   */
  saveIncidents(incidents: readonly Incident[]): Promise<string[]>
  getIncident(id: string): Promise<Incident | null>
  /** In `query.sort` order, newest opened first by default. */
  listIncidents(query: IncidentQuery): Promise<Page<Incident>>

  saveRun(run: DetectionRun): Promise<void>
  getRun(runId: string): Promise<DetectionRun | null>
  /** Newest slot first, then newest start. */
  listRuns(query: RunQuery): Promise<Page<DetectionRun>>

  getCustomer(customerId: string): Promise<CustomerProfile | null>
  putCustomer(profile: CustomerProfile): Promise<void>
  /** Every registry entry (customers without one are active with defaults). */
  listCustomers(): Promise<CustomerProfile[]>

  /**
   * Marks an open incident acknowledged (at, by whom); further escalations of it are not notified. Detection
   * writes (saveIncidents) never clear it. Returns the incident, or null when the id is unknown.
   */
  acknowledgeIncident(id: string, at: number, by: string | null): Promise<Incident | null>
  /**
   * Records a person's label on an incident (replacing an earlier one); detection writes never clear it. Returns
   * the incident, or null when the id is unknown.
   */
  setIncidentFeedback(id: string, feedback: IncidentFeedback): Promise<Incident | null>
  /** Incidents carrying feedback whose period reaches `since` or later (open ones always), any order. */
  labelledIncidents(since: number): Promise<Incident[]>

  /** The alert outbox and mutes, in the same store so that an alert is as durable as its incident. */
  readonly alerts: AlertStore

  /** The API keys (hashed), in the same store so that every deployment has exactly one place for them. */
  readonly apiKeys: ApiKeyStore

  /** Shard results of sharded runs until each run is finished (see app/sharded-run.ts). */
  readonly shards: ShardStore

  close(): Promise<void>
}

/** A shard's result as the app serialized it; the store keeps it whole, whatever its size. */
export interface StoredShardResult {
  runId: string
  index: number
  payload: string
  /** Expiry, epoch seconds (the store may delete it after). */
  ttl: number
}

/**
 * Where the workers of a sharded run leave their results for whoever finishes the run. Results are write-once:
 * a redelivered or concurrent duplicate of a shard cannot replace the result the finisher may already have read.
 */
export interface ShardStore {
  /** Stores the result unless one is stored for (runId, index); true when this call stored it. */
  putResult(result: StoredShardResult): Promise<boolean>
  /** The run's complete stored results, by index ascending. */
  results(runId: string): Promise<StoredShardResult[]>
  /**
   * The indexes of the run's stored results (those `putResult` stored, not a losing or crashed writer's),
   * ascending; reads no payload, so a worker can ask it on every task of a large run.
   */
  storedIndexes(runId: string): Promise<number[]>
  /**
   * Takes the right to finish the run until `until` (ms) unless another owner holds an unexpired claim at `now`;
   * true when `owner` holds it after the call (taking it again as the same owner succeeds).
   */
  claimFinish(runId: string, owner: string, now: number, until: number): Promise<boolean>
}

/** Where the coordinator of a sharded run sends one task per shard (SQS in AWS). */
export interface ShardQueue {
  /** Sends every task or throws (tasks already sent may be sent again by a retry: workers ignore duplicates). */
  send(tasks: readonly ShardTask[]): Promise<void>
}

/** API keys by id. Keys are few (people create them), so listing reads them all. */
export interface ApiKeyStore {
  /** Stores a new key; a ConflictError when its id is taken (the record is not written). */
  insert(key: ApiKeyRecord): Promise<void>
  get(id: string): Promise<ApiKeyRecord | null>
  /** Every key, revoked ones included, newest created first (ties by id). */
  list(): Promise<ApiKeyRecord[]>
  /** Marks a key revoked at `at`; a revoked key keeps its first revocation time. Null when the id is unknown. */
  revoke(id: string, at: number): Promise<ApiKeyRecord | null>
  /** Records a use at `at` unless a later use is recorded; an unknown id is ignored. */
  touch(id: string, at: number): Promise<void>
}

/** The outcome of one delivery attempt; channels report failures as values, they do not throw. */
export type DeliveryResult =
  | { status: 'delivered' }
  /** Worth trying again (5xx, 429, timeout, connection refused); retryAfterMs when the receiver said so. */
  | { status: 'retry'; error: string; retryAfterMs?: number }
  /** The receiver refused this alert for good (4xx other than 429): dead-lettered without further attempts. */
  | { status: 'rejected'; error: string }

export interface DeliveryContext {
  /** Unique per alert and channel; stable across retries. */
  deliveryId: string
  /** 1 for the first attempt. */
  attempt: number
}

/** One way of telling people (Slack, PagerDuty, ...): one folder under adapters/alerts each. */
export interface AlertChannel {
  readonly name: string
  send(alert: Alert, context: DeliveryContext): Promise<DeliveryResult>
  close?(): Promise<void>
}

export interface AlertQuery {
  status?: DeliveryStatus
  channel?: string
  limit: number
  cursor?: string
}

/** The durable outbox of alert deliveries, and the mutes. */
export interface AlertStore {
  /** Adds the deliveries whose id is not stored yet (a replayed run adds nothing); returns how many were added. */
  enqueue(deliveries: readonly AlertDelivery[]): Promise<number>
  /** Pending deliveries with nextAttemptAt <= now, earliest due first, at most `limit`; of one channel if given. */
  due(now: number, limit: number, channel?: string): Promise<AlertDelivery[]>
  /**
   * Replaces a delivery only if the stored one still has the expected status and attempts (optimistic lock: of
   * two workers claiming the same delivery, one wins). Returns whether it was written.
   */
  update(next: AlertDelivery, expected: { status: DeliveryStatus; attempts: number }): Promise<boolean>
  get(id: string): Promise<AlertDelivery | null>
  /** Newest first by id (ids start with the alert's ISO time). */
  list(query: AlertQuery): Promise<Page<AlertDelivery>>
  /** Every delivery of these alerts, whatever the channel (a key range each: ids start with the alert id), any order. */
  ofAlerts(alertIds: readonly string[]): Promise<AlertDelivery[]>

  putMute(mute: Mute): Promise<void>
  /** Mutes with until > now, newest created first. */
  activeMutes(now: number): Promise<Mute[]>
  /** Returns whether a mute with that id existed. */
  deleteMute(id: string): Promise<boolean>
}

/** What one alert channel's deliveries came to in a delivery pass. */
export interface ChannelDeliveries {
  delivered: number
  retrying: number
  failed: number
}

/** One answered HTTP request, labelled by its route pattern (never the raw URL: labels must stay few). */
export interface HttpRequestRecord {
  /** The route as declared (`/v1/incidents/:id`); null when no route matched. */
  route: string | null
  method: string
  statusCode: number
  durationMs: number
}

/**
 * Operational counters the use cases report once per event (Prometheus on the server, nothing in the CLI).
 * Reporting never throws and never waits: a broken metrics backend must not fail a run or a request.
 */
export interface Telemetry {
  runFinished(run: DetectionRun, anomaliesBySeverity: Readonly<Record<Severity, number>>): void
  openIncidents(count: number): void
  deliveriesFinished(byChannel: Readonly<Record<string, ChannelDeliveries>>): void
  eventsIngested(events: { stored: number; duplicates: number; conflicts: number }, bytes: number): void
  httpRequest(request: HttpRequestRecord): void
}

/** For code paths without metrics (the CLI, the eval). */
export const noTelemetry: Telemetry = {
  runFinished: () => undefined,
  openIncidents: () => undefined,
  deliveriesFinished: () => undefined,
  eventsIngested: () => undefined,
  httpRequest: () => undefined,
}

/** The metrics in a scrapeable text format (`GET /metrics`). */
export interface MetricsExposition {
  readonly contentType: string
  render(): Promise<string>
}
