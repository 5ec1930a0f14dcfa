import type { AnomalyQuery, AnomalyRecord, Page } from '../domain/anomaly.js'
import type { ApiKeyRecord } from '../domain/api-key.js'
import type { CustomerProfile } from '../domain/customer.js'
import type { Incident, IncidentFeedback, IncidentStatus } from '../domain/incident.js'
import type { IncidentSort } from '../domain/list-sorts.js'
import type { DetectionRun } from '../domain/run.js'
import type { ShardTask } from '../domain/shard.js'
import type { SignalKind } from '../domain/signals/signal-registry.js'
import type { Severity } from '../domain/volume.js'
import type { AlertStore } from './alerts.js'

// Where detections, incidents, runs, shard results and API keys live, and the clock the app reads.

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
