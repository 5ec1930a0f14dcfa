import type { AnomalySort } from './list-sorts.js'
import type { SignalFieldValues } from './signals/signal.js'
import { type SignalKind, type SignalOf, signalFields } from './signals/signal-registry.js'
import type { Direction, Severity } from './volume.js'

export const ANOMALY_RETENTION_DAYS = 90

/** What every record has, whatever signal produced it; with `kind`, customer, metric and detectedAt its identity. */
interface AnomalyCommon {
  customerId: string
  metric: string
  /** The slot the run evaluated (ms). */
  detectedAt: number
  currentValue: number
  severity: Severity
  direction: Direction
  windowStart: number
  windowEnd: number
  incidentId: string | null
  runId: string
  /** Epoch seconds after which the store drops the record (the seed's `ttl`). */
  ttl: number
}

/** A record of signal K: the common fields, `kind`, and the fields the signal declares (volume: the seed's). */
export type AnomalyOf<K extends SignalKind> = AnomalyCommon & { kind: K } & SignalFieldValues<SignalOf<K>>

/**
 * One detection of one customer's metric by one signal in one run: a union on `kind`, one member per registered
 * signal (signal-registry.ts). A volume record is the seed's DynamoDB item, field for field, plus context.
 */
export type AnomalyRecord = { [K in SignalKind]: AnomalyOf<K> }[SignalKind]

/** A record's identity: two records with the same one are the same detection (stores keep the first). */
export function anomalyIdentity(
  r: Pick<AnomalyRecord, 'customerId' | 'metric' | 'detectedAt' | 'kind'>,
): string {
  return JSON.stringify([r.customerId, r.metric, r.detectedAt, r.kind])
}

/** A signal field's value as records hold it: a number, or a choice field's word (null when not recorded). */
export type SignalFieldJson = number | string | null

/** The record's signal fields under their API and storage names, as its signal declares them. */
export function signalFieldValues(r: AnomalyRecord): Record<string, SignalFieldJson> {
  const values: Record<string, SignalFieldJson> = {}
  for (const [key, field] of signalFields(r.kind))
    values[field.name] = (r as unknown as Record<string, SignalFieldJson>)[key] as SignalFieldJson
  return values
}

export function retentionTtl(nowMs: number): number {
  return Math.floor(nowMs / 1000) + ANOMALY_RETENTION_DAYS * 86_400
}

export interface AnomalyQuery {
  customerId?: string
  metric?: string
  severity?: Severity
  /** Only records of this signal. */
  kind?: SignalKind
  /** detected_at >= since (ms) */
  since?: number
  /** detected_at < until (ms) */
  until?: number
  /** Default newest first; a store keyed on time alone refuses the others (ValidationError on `sort`). */
  sort?: AnomalySort
  limit: number
  /** Opaque continuation from the previous page. */
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}
