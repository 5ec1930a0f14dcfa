import { METRIC_NAME_PATTERN } from '../../domain/metrics.js'
import { type SignalKind, VOLUME_KIND } from '../../domain/signals/signal-registry.js'
import { ValidationError } from '../../errors.js'
import { SHARD_INDEX_DIGITS } from '../store-args/shard.js'

// The table's key layout. Anomalies use the seed's keys exactly; the other entities share the table under
// partition keys that cannot collide with `CUSTOMER#...`, and none of them carries both `metric` and
// `detected_at`, so only anomalies appear in the seed's GSI.

export const PK = 'pk'
export const SK = 'sk'
export const TTL = 'ttl'
export const METRIC_INDEX = 'metric-severity-index'

export const INCIDENT_PK = 'INCIDENT'
export const RUNS_PK = 'RUNS'
export const RUN_SK = 'RUN'
export const CUSTOMERS_PK = 'CUSTOMERS'

/** Times in sort keys are zero-padded epoch milliseconds, so string order is time order. */
const TIME_DIGITS = 13
export const MAX_KEY_TIME = 10 ** TIME_DIGITS - 1

export type Key = Record<string, string>

export function pad13(ms: number): string {
  return String(ms).padStart(TIME_DIGITS, '0')
}

/** Throws a ValidationError unless `value` is an integer time that fits the 13-digit key format. */
export function checkKeyTime(field: string, value: number, index?: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_KEY_TIME) {
    throw new ValidationError(`invalid ${field}: ${String(value)}`, [
      {
        field,
        reason: `must be an integer epoch-milliseconds time between 0 and ${MAX_KEY_TIME}`,
        ...(index === undefined ? {} : { index }),
      },
    ])
  }
}

// ---- Anomalies (the seed's keys) ---------------------------------------------------------------------------

export function customerPk(customerId: string): string {
  return `CUSTOMER#${customerId}`
}

/**
 * The seed's `ANOMALY#{detected_at}#{metric}` for a volume record; another signal's record at the same slot and
 * metric gets `#{kind}` after it, so two kinds never share an item. Metric names cannot hold '#', so no suffixed
 * key equals another metric's seed key.
 */
export function anomalySk(detectedAt: number, metric: string, kind: SignalKind = VOLUME_KIND): string {
  const seed = `ANOMALY#${pad13(detectedAt)}#${metric}`
  return kind === VOLUME_KIND ? seed : `${seed}#${kind}`
}

export function anomalyKey(customerId: string, detectedAt: number, metric: string, kind: SignalKind): Key {
  return { [PK]: customerPk(customerId), [SK]: anomalySk(detectedAt, metric, kind) }
}

/**
 * Inclusive sort-key bounds covering detected_at in [fromMs, toMs]: '$' follows '#', so `ANOMALY#{to}$` sorts
 * after every `ANOMALY#{to}#{metric}` and `ANOMALY#{to}#{metric}#{kind}`.
 */
export function anomalySkRange(fromMs: number, toMs: number): [string, string] {
  return [`ANOMALY#${pad13(fromMs)}#`, `ANOMALY#${pad13(toMs)}$`]
}

// ---- Incidents ---------------------------------------------------------------------------------------------

export function incidentSk(openedAt: number, customerId: string, metric: string): string {
  return `${new Date(openedAt).toISOString()}#${customerId}#${metric}`
}

/**
 * Splits an id made by the domain's `incidentId` (`{customer}|{metric}|{opened ISO}`) from the right: a
 * customer id may contain '|', a metric name may not. Null for any other id.
 */
export function parseIncidentId(id: string): { customerId: string; metric: string; openedAt: number } | null {
  const lastBar = id.lastIndexOf('|')
  if (lastBar < 0) return null
  const iso = id.slice(lastBar + 1)
  const rest = id.slice(0, lastBar)
  const metricBar = rest.lastIndexOf('|')
  if (metricBar <= 0) return null
  const metric = rest.slice(metricBar + 1)
  const customerId = rest.slice(0, metricBar)
  const openedAt = Date.parse(iso)
  if (!METRIC_NAME_PATTERN.test(metric) || !Number.isFinite(openedAt)) return null
  if (new Date(openedAt).toISOString() !== iso) return null
  return { customerId, metric, openedAt }
}

/**
 * The index of labelled incidents (see incident-labels.ts): one entry per incident that carries feedback, under
 * the incident's own sort key.
 */
export const INCIDENT_LABELS_PK = 'INCIDENT_LABELS'

export function incidentLabelKey(incidentSortKey: string): Key {
  return { [PK]: INCIDENT_LABELS_PK, [SK]: incidentSortKey }
}

// ---- Runs and customers ------------------------------------------------------------------------------------

export function runListingSk(slot: number, startedAt: number, runId: string): string {
  return `${pad13(slot)}#${pad13(startedAt)}#${runId}`
}

export function runListingKey(slot: number, startedAt: number, runId: string): Key {
  return { [PK]: RUNS_PK, [SK]: runListingSk(slot, startedAt, runId) }
}

export function runPk(runId: string): string {
  return `RUN#${runId}`
}

export function runLookupKey(runId: string): Key {
  return { [PK]: runPk(runId), [SK]: RUN_SK }
}

// Sharded runs (see shard-store.ts), in the run's own partition: per shard a header `SHARD#{index}` naming the
// writer's nonce and part count; the payload in parts `SHARDPART#{index}#{nonce}#{part}`, under a prefix of their
// own so that `begins_with(sk, 'SHARD#')` finds headers only; the finish claim `FINISH`.

export const SHARD_SK_PREFIX = 'SHARD#'
export const SHARD_PART_SK_PREFIX = 'SHARDPART#'
export const FINISH_SK = 'FINISH'
const SHARD_PART_DIGITS = 4
export const MAX_SHARD_PARTS = 10 ** SHARD_PART_DIGITS - 1

function paddedIndex(index: number): string {
  return String(index).padStart(SHARD_INDEX_DIGITS, '0')
}

export function shardHeaderKey(runId: string, index: number): Key {
  return { [PK]: runPk(runId), [SK]: `${SHARD_SK_PREFIX}${paddedIndex(index)}` }
}

const SHARD_HEADER_SK = new RegExp(`^${SHARD_SK_PREFIX}(\\d{${SHARD_INDEX_DIGITS}})$`)

/** The shard index a header's sort key names; null for any other sort key. */
export function shardIndexOfHeaderSk(sk: unknown): number | null {
  const digits = SHARD_HEADER_SK.exec(String(sk))?.[1]
  return digits === undefined ? null : Number(digits)
}

export function shardPartSk(index: number, nonce: string, part: number): string {
  return `${SHARD_PART_SK_PREFIX}${paddedIndex(index)}#${nonce}#${String(part).padStart(SHARD_PART_DIGITS, '0')}`
}

export function shardPartKey(runId: string, index: number, nonce: string, part: number): Key {
  return { [PK]: runPk(runId), [SK]: shardPartSk(index, nonce, part) }
}

export function finishClaimKey(runId: string): Key {
  return { [PK]: runPk(runId), [SK]: FINISH_SK }
}

export function customerKey(customerId: string): Key {
  return { [PK]: CUSTOMERS_PK, [SK]: customerId }
}

// ---- Alert outbox and mutes --------------------------------------------------------------------------------
// Deliveries live in one partition sorted by delivery id (ids start with the alert's ISO time, so key order is
// time order); pending ones are also findable by due time under ALERTS_DUE (see alert-due.ts); mutes are few
// and live in their own partition.

export const ALERTS_PK = 'ALERTS'
export const ALERTS_DUE_PK = 'ALERTS_DUE'
export const MUTES_PK = 'MUTES'

/** DynamoDB's limit on a sort key, in UTF-8 bytes; a due-index key adds 14 bytes to a delivery id. */
const MAX_SORT_KEY_BYTES = 1024
export const MAX_ALERT_KEY_BYTES = MAX_SORT_KEY_BYTES - 14

/** Whether `id` can be a delivery's or a mute's sort key (non-empty, short enough for the due index too). */
export function isAlertKey(id: unknown): id is string {
  return typeof id === 'string' && id !== '' && Buffer.byteLength(id, 'utf8') <= MAX_ALERT_KEY_BYTES
}

export function deliveryKey(id: string): Key {
  return { [PK]: ALERTS_PK, [SK]: id }
}

/** `{due 13 digits}#{delivery id}`: ascending key order is earliest due first, ties by id. */
export function dueSk(nextAttemptAt: number, id: string): string {
  return `${pad13(nextAttemptAt)}#${id}`
}

export function dueKey(nextAttemptAt: number, id: string): Key {
  return { [PK]: ALERTS_DUE_PK, [SK]: dueSk(nextAttemptAt, id) }
}

/** The due time a due-index sort key starts with. */
export function dueSkTime(sk: string): number {
  return Number(sk.slice(0, TIME_DIGITS))
}

export function muteKey(id: string): Key {
  return { [PK]: MUTES_PK, [SK]: id }
}

// ---- API keys ----------------------------------------------------------------------------------------------
// Few and rarely written: one partition, sorted by key id.

export const API_KEYS_PK = 'API_KEYS'

export function apiKeyKey(id: string): Key {
  return { [PK]: API_KEYS_PK, [SK]: id }
}
