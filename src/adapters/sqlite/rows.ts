import type { AnomalyRecord } from '../../domain/anomaly.js'
import type { CustomerProfile } from '../../domain/customer.js'
import type { Incident } from '../../domain/incident.js'
import type { DetectionRun } from '../../domain/run.js'
import { type FieldIssue, ValidationError } from '../../errors.js'

// Rows as SQLite returns them (snake_case, nullable where the domain is). Named parameters (@name) bind
// the same objects on the way in.

export interface AnomalyRow {
  customer_id: string
  detected_at: number
  metric: string
  current_value: number
  baseline_mean: number
  baseline_stddev: number
  z_score: number
  severity: AnomalyRecord['severity']
  direction: AnomalyRecord['direction']
  window_start: number
  window_end: number
  samples: number
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
}

/** Read side: the acknowledgement columns are written only by acknowledgeIncident, never by a detection upsert. */
export interface IncidentReadRow extends IncidentRow {
  acknowledged_at: number | null
  acknowledged_by: string | null
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
}

export function anomalyToRow(r: AnomalyRecord): AnomalyRow {
  return {
    customer_id: r.customerId,
    detected_at: r.detectedAt,
    metric: r.metric,
    current_value: r.currentValue,
    baseline_mean: r.baselineMean,
    baseline_stddev: r.baselineStddev,
    z_score: r.zScore,
    severity: r.severity,
    direction: r.direction,
    window_start: r.windowStart,
    window_end: r.windowEnd,
    samples: r.samples,
    incident_id: r.incidentId,
    run_id: r.runId,
    ttl: r.ttl,
  }
}

export function rowToAnomaly(r: AnomalyRow): AnomalyRecord {
  return {
    customerId: r.customer_id,
    metric: r.metric,
    detectedAt: r.detected_at,
    currentValue: r.current_value,
    baselineMean: r.baseline_mean,
    baselineStddev: r.baseline_stddev,
    zScore: r.z_score,
    severity: r.severity,
    direction: r.direction,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    samples: r.samples,
    incidentId: r.incident_id,
    runId: r.run_id,
    ttl: r.ttl,
  }
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
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
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
    updatedAt: r.updated_at,
  }
}

// ---- Validation of numbers before they reach SQLite -------------------------------------------------------
// STRICT tables refuse a fractional value in an INTEGER column and SQLite turns NaN into NULL; both would
// surface as a confusing store failure. DynamoDB refuses NaN and Infinity too, so they are refused here alike.

/** Issues name fields as the API does (detected_at, not detectedAt). */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

type Numeric<T> = { [K in keyof T]: T[K] extends number | null ? K : never }[keyof T]

/**
 * Throws a ValidationError naming every non-integer (integers) or non-finite (reals) field; null passes.
 * Issues carry the item's index when `items` is a batch.
 */
export function checkNumbers<T extends object>(
  what: string,
  items: readonly T[],
  integers: readonly Numeric<T>[],
  reals: readonly Numeric<T>[],
  batch = true,
): void {
  const issues: FieldIssue[] = []
  items.forEach((item, index) => {
    const record = item as Record<PropertyKey, unknown>
    const at = batch ? { index } : {}
    for (const field of integers) {
      const v = record[field]
      if (v !== null && !Number.isSafeInteger(v)) {
        issues.push({
          field: snakeCase(String(field)),
          reason: `must be an integer, got ${String(v)}`,
          ...at,
        })
      }
    }
    for (const field of reals) {
      const v = record[field]
      if (v !== null && !(typeof v === 'number' && Number.isFinite(v))) {
        issues.push({
          field: snakeCase(String(field)),
          reason: `must be a finite number, got ${String(v)}`,
          ...at,
        })
      }
    }
  })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid ${what}: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
}

export const ANOMALY_INTEGERS = ['detectedAt', 'windowStart', 'windowEnd', 'samples', 'ttl'] as const
export const ANOMALY_REALS = ['currentValue', 'baselineMean', 'baselineStddev', 'zScore'] as const
export const INCIDENT_INTEGERS = [
  'openedAt',
  'lastSeenAt',
  'resolvedAt',
  'detections',
  'cleanRuns',
  'lastEvaluatedSlot',
] as const
export const INCIDENT_REALS = ['peakZScore', 'lastZScore'] as const
export const RUN_INTEGERS = [
  'slot',
  'startedAt',
  'finishedAt',
  'checked',
  'customers',
  'anomaliesFound',
  'anomaliesStored',
  'insufficientData',
  'incidentsOpened',
  'incidentsEscalated',
  'incidentsResolved',
] as const
export const RUN_REALS = ['durationMs'] as const
export const CUSTOMER_INTEGERS = ['updatedAt'] as const
export const CUSTOMER_REALS = ['threshold', 'criticalThreshold'] as const
