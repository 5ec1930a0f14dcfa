import {
  ANOMALY_RETENTION_DAYS,
  type AnomalyRecord,
  type SignalFieldJson,
  signalFieldValues,
} from '../../domain/anomaly.js'
import type { CustomerProfile } from '../../domain/customer.js'
import {
  FEEDBACK_LABELS,
  type Incident,
  type IncidentFeedback,
  legacySignals,
} from '../../domain/incident.js'
import type { DetectionRun } from '../../domain/run.js'
import {
  isSignalKind,
  LEGACY_SIGNAL_KIND,
  SIGNAL_KINDS,
  signalFields,
} from '../../domain/signals/signal-registry.js'
import { StoreError } from '../../errors.js'
import { detectorAttribute, readDetector } from './customer-detector.js'
import {
  anomalyKey,
  customerKey,
  INCIDENT_PK,
  incidentSk,
  PK,
  RUNS_PK,
  runListingSk,
  runLookupKey,
  SK,
  TTL,
} from './keys.js'

/** An item as the document client reads and writes it (numbers are read back as JS numbers). */
export type Item = Record<string, unknown>

const RETENTION_S = ANOMALY_RETENTION_DAYS * 86_400

function expiresAfter(ms: number): number {
  return Math.floor(ms / 1000) + RETENTION_S
}

// ---- Writing -----------------------------------------------------------------------------------------------

/**
 * The seed's item (pk, sk, customer_id, metric, detected_at, current_value, ..., severity, ttl) plus the record's
 * context; the signal's own fields are attributes under their declared names (volume: the seed's baseline_mean,
 * baseline_stddev, z_score, and samples). A volume item stays exactly the seed's (no `kind`, the seed's key), so
 * items written before signals and after are one shape; any other kind carries `kind` and its own key.
 */
export function anomalyItem(r: AnomalyRecord): Item {
  return {
    ...anomalyKey(r.customerId, r.detectedAt, r.metric, r.kind),
    customer_id: r.customerId,
    metric: r.metric,
    detected_at: r.detectedAt,
    current_value: r.currentValue,
    ...signalFieldValues(r),
    severity: r.severity,
    [TTL]: r.ttl,
    ...(r.kind === LEGACY_SIGNAL_KIND ? {} : { kind: r.kind }),
    direction: r.direction,
    window_start: r.windowStart,
    window_end: r.windowEnd,
    incident_id: r.incidentId,
    run_id: r.runId,
  }
}

/**
 * The metric is `incident_metric`: an item with `metric` and `detected_at` would enter the seed's GSI. The
 * acknowledgement (acknowledged_at, acknowledged_by) and the feedback (feedback_label, _at, _by, _note) are not
 * part of it: only acknowledgeIncident and setIncidentFeedback write them, so detection writes keep them.
 */
export function incidentItem(i: Incident): Item {
  return {
    [PK]: INCIDENT_PK,
    [SK]: incidentSk(i.openedAt, i.customerId, i.metric),
    id: i.id,
    customer_id: i.customerId,
    incident_metric: i.metric,
    status: i.status,
    severity: i.severity,
    direction: i.direction,
    opened_at: i.openedAt,
    last_seen_at: i.lastSeenAt,
    resolved_at: i.resolvedAt,
    peak_z_score: i.peakZScore,
    last_z_score: i.lastZScore,
    detections: i.detections,
    clean_runs: i.cleanRuns,
    last_evaluated_slot: i.lastEvaluatedSlot,
    opened_by_signal: i.openedBySignal,
    firing_signals: i.firingSignals,
    // Open incidents stay until resolved; a resolved one is kept as long as an anomaly.
    [TTL]: i.status === 'resolved' && i.resolvedAt !== null ? expiresAfter(i.resolvedAt) : undefined,
  }
}

function runAttributes(r: DetectionRun): Item {
  return {
    run_id: r.runId,
    slot: r.slot,
    status: r.status,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
    checked: r.checked,
    customers: r.customers,
    anomalies_found: r.anomaliesFound,
    anomalies_stored: r.anomaliesStored,
    insufficient_data: r.insufficientData,
    incidents_opened: r.incidentsOpened,
    incidents_escalated: r.incidentsEscalated,
    incidents_resolved: r.incidentsResolved,
    trigger: r.trigger,
    error: r.error,
    [TTL]: expiresAfter(r.startedAt),
  }
}

/** The listing item (pk RUNS, newest slot last in key order) and the lookup item by run id; both hold it all. */
export function runItems(r: DetectionRun): { listing: Item; lookup: Item } {
  const listingSk = runListingSk(r.slot, r.startedAt, r.runId)
  return {
    listing: { [PK]: RUNS_PK, [SK]: listingSk, ...runAttributes(r) },
    lookup: { ...runLookupKey(r.runId), listing_sk: listingSk, ...runAttributes(r) },
  }
}

export function customerItem(c: CustomerProfile): Item {
  return {
    ...customerKey(c.customerId),
    customer_id: c.customerId,
    status: c.status,
    threshold: c.threshold,
    critical_threshold: c.criticalThreshold,
    metrics: c.metrics,
    detector: detectorAttribute(c.detector),
    updated_at: c.updatedAt,
  }
}

// ---- Reading -----------------------------------------------------------------------------------------------
// Items come from a table other tools can write to: each attribute is checked, and a malformed item is a
// StoreError naming its key and attribute rather than a half-built domain object.

export class Reader {
  constructor(private readonly item: Item) {}

  fail(name: string, expected: string): never {
    const key = `${String(this.item[PK])} / ${String(this.item[SK])}`
    throw new StoreError(`malformed DynamoDB item ${key}: attribute ${name} is not ${expected}`)
  }

  str(name: string): string {
    const v = this.item[name]
    return typeof v === 'string' ? v : this.fail(name, 'a string')
  }

  num(name: string): number {
    const v = this.item[name]
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(name, 'a number')
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.item[name]
    return allowed.includes(v as T) ? (v as T) : this.fail(name, `one of ${allowed.join(', ')}`)
  }

  /** One of `allowed`, or null when absent or NULL. */
  nullableOneOf<T extends string>(name: string, allowed: readonly T[]): T | null {
    return this.item[name] === null || this.item[name] === undefined ? null : this.oneOf(name, allowed)
  }

  nullableStr(name: string): string | null {
    return this.item[name] === null || this.item[name] === undefined ? null : this.str(name)
  }

  nullableNum(name: string): number | null {
    return this.item[name] === null || this.item[name] === undefined ? null : this.num(name)
  }

  /** A map attribute (null when absent or NULL). */
  nullableMap(name: string): Item | null {
    const v = this.item[name]
    if (v === null || v === undefined) return null
    return typeof v === 'object' && !Array.isArray(v) && !(v instanceof Set)
      ? (v as Item)
      : this.fail(name, 'a map')
  }

  nullableStrList(name: string): string[] | null {
    const v = this.item[name]
    if (v === null || v === undefined) return null
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[]
    return this.fail(name, 'a list of strings')
  }
}

const SEVERITIES = ['warning', 'critical'] as const
const DIRECTIONS = ['spike', 'drop'] as const

/** An item without `kind` is a volume record (the seed's item, before signals and since). */
export function itemToAnomaly(item: Item): AnomalyRecord {
  const r = new Reader(item)
  const kind = item.kind === undefined ? LEGACY_SIGNAL_KIND : r.oneOf('kind', SIGNAL_KINDS)
  const fields: Record<string, SignalFieldJson> = {}
  // A choice field is absent from items written before it was declared: not recorded, so null.
  for (const [key, field] of signalFields(kind))
    fields[key] = field.type === 'choice' ? r.nullableOneOf(field.name, field.choices) : r.num(field.name)
  return {
    kind,
    customerId: r.str('customer_id'),
    metric: r.str('metric'),
    detectedAt: r.num('detected_at'),
    currentValue: r.num('current_value'),
    severity: r.oneOf('severity', SEVERITIES),
    direction: r.oneOf('direction', DIRECTIONS),
    windowStart: r.num('window_start'),
    windowEnd: r.num('window_end'),
    ...fields,
    incidentId: r.nullableStr('incident_id'),
    runId: r.str('run_id'),
    ttl: r.num(TTL),
  } as AnomalyRecord
}

export function itemToIncident(item: Item): Incident {
  const r = new Reader(item)
  return {
    id: r.str('id'),
    customerId: r.str('customer_id'),
    metric: r.str('incident_metric'),
    status: r.oneOf('status', ['open', 'resolved'] as const),
    severity: r.oneOf('severity', SEVERITIES),
    direction: r.oneOf('direction', DIRECTIONS),
    openedAt: r.num('opened_at'),
    lastSeenAt: r.num('last_seen_at'),
    resolvedAt: r.nullableNum('resolved_at'),
    peakZScore: r.num('peak_z_score'),
    lastZScore: r.num('last_z_score'),
    detections: r.num('detections'),
    cleanRuns: r.num('clean_runs'),
    lastEvaluatedSlot: r.num('last_evaluated_slot'),
    ...readSignals(item, r),
    acknowledgedAt: r.nullableNum('acknowledged_at'),
    acknowledgedBy: r.nullableStr('acknowledged_by'),
    feedback: readFeedback(r),
  }
}

/** Absent on incidents written before signals: those are the volume signal's (legacySignals). */
function readSignals(item: Item, r: Reader): Pick<Incident, 'openedBySignal' | 'firingSignals'> {
  if (item.opened_by_signal === undefined) {
    return legacySignals({
      status: r.oneOf('status', ['open', 'resolved'] as const),
      cleanRuns: r.num('clean_runs'),
    })
  }
  const firing = r.nullableStrList('firing_signals') ?? r.fail('firing_signals', 'a list of signal kinds')
  return {
    openedBySignal: r.oneOf('opened_by_signal', SIGNAL_KINDS),
    firingSignals: firing.map((kind) =>
      isSignalKind(kind) ? kind : r.fail('firing_signals', 'a list of signal kinds'),
    ),
  }
}

/** Absent on incidents nobody labelled. */
function readFeedback(r: Reader): IncidentFeedback | null {
  if (r.nullableStr('feedback_label') === null) return null
  return {
    label: r.oneOf('feedback_label', FEEDBACK_LABELS),
    at: r.num('feedback_at'),
    by: r.nullableStr('feedback_by'),
    note: r.nullableStr('feedback_note'),
  }
}

export function itemToRun(item: Item): DetectionRun {
  const r = new Reader(item)
  return {
    runId: r.str('run_id'),
    slot: r.num('slot'),
    status: r.oneOf('status', ['running', 'completed', 'failed'] as const),
    startedAt: r.num('started_at'),
    finishedAt: r.nullableNum('finished_at'),
    durationMs: r.nullableNum('duration_ms'),
    checked: r.num('checked'),
    customers: r.num('customers'),
    anomaliesFound: r.num('anomalies_found'),
    anomaliesStored: r.num('anomalies_stored'),
    insufficientData: r.num('insufficient_data'),
    incidentsOpened: r.num('incidents_opened'),
    incidentsEscalated: r.num('incidents_escalated'),
    incidentsResolved: r.num('incidents_resolved'),
    trigger: r.oneOf('trigger', ['schedule', 'api', 'cli', 'lambda'] as const),
    error: r.nullableStr('error'),
  }
}

export function itemToCustomer(item: Item): CustomerProfile {
  const r = new Reader(item)
  return {
    customerId: r.str('customer_id'),
    status: r.oneOf('status', ['active', 'disabled'] as const),
    threshold: r.nullableNum('threshold'),
    criticalThreshold: r.nullableNum('critical_threshold'),
    metrics: r.nullableStrList('metrics'),
    // Absent on items written before per-customer detector settings: null, as for a customer without any.
    detector: readDetector(r, 'detector'),
    updatedAt: r.num('updated_at'),
  }
}
