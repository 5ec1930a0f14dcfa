import { type AnomalyRecord, type SignalFieldJson, signalFieldValues } from '../../domain/anomaly.js'
import type { CustomerProfile } from '../../domain/customer.js'
import type { FeedbackLabel, Incident } from '../../domain/incident.js'
import type { DetectionRun } from '../../domain/run.js'
import { signalFieldProblem } from '../../domain/signals/signal.js'
import { isSignalKind, type SignalKind, signalFields } from '../../domain/signals/signal-registry.js'
import { StoreError } from '../../errors.js'

// Rows as SQLite returns them (snake_case, nullable where the domain is). Named parameters (@name) bind
// the same objects on the way in.

export interface AnomalyRow {
  customer_id: string
  detected_at: number
  metric: string
  kind: string
  current_value: number
  severity: AnomalyRecord['severity']
  direction: AnomalyRecord['direction']
  window_start: number
  window_end: number
  /** JSON object: the signal's own fields under their storage names (volume: z_score, baseline_mean, ...). */
  signal_fields: string
  incident_id: string | null
  run_id: string
  ttl: number
}

export interface IncidentRow {
  id: string
  customer_id: string
  metric: string
  status: Incident['status']
  severity: Incident['severity']
  direction: Incident['direction']
  opened_at: number
  last_seen_at: number
  resolved_at: number | null
  peak_z_score: number
  last_z_score: number
  detections: number
  clean_runs: number
  last_evaluated_slot: number
  opened_by_signal: string
  /** JSON array of signal kinds. */
  firing_signals: string
}

/** Read side: the acknowledgement columns are written only by acknowledgeIncident, never by a detection upsert. */
export interface IncidentReadRow extends IncidentRow {
  acknowledged_at: number | null
  acknowledged_by: string | null
  feedback_label: FeedbackLabel | null
  feedback_at: number | null
  feedback_by: string | null
  feedback_note: string | null
}

export interface RunRow {
  run_id: string
  slot: number
  status: DetectionRun['status']
  started_at: number
  finished_at: number | null
  duration_ms: number | null
  checked: number
  customers: number
  anomalies_found: number
  anomalies_stored: number
  insufficient_data: number
  incidents_opened: number
  incidents_escalated: number
  incidents_resolved: number
  triggered_by: DetectionRun['trigger']
  error: string | null
}

export interface CustomerRow {
  customer_id: string
  status: CustomerProfile['status']
  threshold: number | null
  critical_threshold: number | null
  metrics: string | null
  updated_at: number
  /** JSON object of detector overrides, or NULL. */
  detector: string | null
}

/** A stored signal kind; a kind a newer MeterFlow wrote is refused, never misread. */
function readKind(value: unknown, where: string): SignalKind {
  if (!isSignalKind(value))
    throw new StoreError(`${where} names signal '${String(value)}', which this version does not know`)
  return value
}

export function anomalyToRow(r: AnomalyRecord): AnomalyRow {
  return {
    customer_id: r.customerId,
    detected_at: r.detectedAt,
    metric: r.metric,
    kind: r.kind,
    current_value: r.currentValue,
    severity: r.severity,
    direction: r.direction,
    window_start: r.windowStart,
    window_end: r.windowEnd,
    signal_fields: JSON.stringify(signalFieldValues(r)),
    incident_id: r.incidentId,
    run_id: r.runId,
    ttl: r.ttl,
  }
}

export function rowToAnomaly(r: AnomalyRow): AnomalyRecord {
  const where = `anomaly ${r.customer_id} / ${r.metric} / ${r.detected_at}`
  if (!isSignalKind(r.kind))
    throw new StoreError(`${where} has kind '${r.kind}', which this version does not know`)
  const stored = JSON.parse(r.signal_fields) as Record<string, unknown>
  const fields: Record<string, SignalFieldJson> = {}
  for (const [key, field] of signalFields(r.kind)) {
    // A choice field is absent from rows written before it was declared: not recorded, so null.
    const value = stored[field.name] ?? (field.type === 'choice' ? null : undefined)
    if (value === undefined) throw new StoreError(`${where} lacks its ${r.kind} field ${field.name}`)
    const problem = signalFieldProblem(field, value)
    if (problem !== null) throw new StoreError(`${where}: its ${r.kind} field ${field.name} ${problem}`)
    fields[key] = value as SignalFieldJson
  }
  return {
    kind: r.kind,
    customerId: r.customer_id,
    metric: r.metric,
    detectedAt: r.detected_at,
    currentValue: r.current_value,
    severity: r.severity,
    direction: r.direction,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    ...fields,
    incidentId: r.incident_id,
    runId: r.run_id,
    ttl: r.ttl,
  } as AnomalyRecord
}

export function incidentToRow(i: Incident): IncidentRow {
  return {
    id: i.id,
    customer_id: i.customerId,
    metric: i.metric,
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
    firing_signals: JSON.stringify(i.firingSignals),
  }
}

export function rowToIncident(r: IncidentReadRow): Incident {
  return {
    id: r.id,
    customerId: r.customer_id,
    metric: r.metric,
    status: r.status,
    severity: r.severity,
    direction: r.direction,
    openedAt: r.opened_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
    peakZScore: r.peak_z_score,
    lastZScore: r.last_z_score,
    detections: r.detections,
    cleanRuns: r.clean_runs,
    lastEvaluatedSlot: r.last_evaluated_slot,
    openedBySignal: readKind(r.opened_by_signal, `incident ${r.id}`),
    firingSignals: (JSON.parse(r.firing_signals) as unknown[]).map((k) => readKind(k, `incident ${r.id}`)),
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    feedback:
      r.feedback_label === null
        ? null
        : { label: r.feedback_label, at: r.feedback_at ?? 0, by: r.feedback_by, note: r.feedback_note },
  }
}

export function runToRow(r: DetectionRun): RunRow {
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
    triggered_by: r.trigger,
    error: r.error,
  }
}

export function rowToRun(r: RunRow): DetectionRun {
  return {
    runId: r.run_id,
    slot: r.slot,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    checked: r.checked,
    customers: r.customers,
    anomaliesFound: r.anomalies_found,
    anomaliesStored: r.anomalies_stored,
    insufficientData: r.insufficient_data,
    incidentsOpened: r.incidents_opened,
    incidentsEscalated: r.incidents_escalated,
    incidentsResolved: r.incidents_resolved,
    trigger: r.triggered_by,
    error: r.error,
  }
}

export function customerToRow(c: CustomerProfile): CustomerRow {
  return {
    customer_id: c.customerId,
    status: c.status,
    threshold: c.threshold,
    critical_threshold: c.criticalThreshold,
    metrics: c.metrics === null ? null : JSON.stringify(c.metrics),
    updated_at: c.updatedAt,
    detector: c.detector === null ? null : JSON.stringify(c.detector),
  }
}

export function rowToCustomer(r: CustomerRow): CustomerProfile {
  let metrics: string[] | null = null
  if (r.metrics !== null) {
    const parsed: unknown = JSON.parse(r.metrics)
    if (!Array.isArray(parsed) || !parsed.every((m) => typeof m === 'string')) {
      throw new Error(`customer ${r.customer_id} has a metrics column that is not a JSON array of names`)
    }
    metrics = parsed
  }
  return {
    customerId: r.customer_id,
    status: r.status,
    threshold: r.threshold,
    criticalThreshold: r.critical_threshold,
    metrics,
    detector: r.detector === null ? null : (JSON.parse(r.detector) as CustomerProfile['detector']),
    updatedAt: r.updated_at,
  }
}
