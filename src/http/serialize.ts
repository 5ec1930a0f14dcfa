import { type AnomalyRecord, signalFieldValues } from '../domain/anomaly.js'
import type { ApiKeyInfo } from '../domain/api-key.js'
import type { CustomerProfile } from '../domain/customer.js'
import { type DetectorSettingsJson, detectorFromJson, detectorToJson } from '../domain/detector-settings.js'
import type { Incident } from '../domain/incident.js'
import type { DetectionRun } from '../domain/run.js'
import { toIso } from '../domain/time.js'

const iso = (ms: number | null) => (ms === null ? null : toIso(ms))

/**
 * The seed's anomaly fields (customer_id ... detected_at) plus the context a reader needs: `kind` names the signal,
 * whose own fields follow under their declared names (volume: baseline_mean, baseline_stddev, z_score, samples).
 */
export function anomalyJson(a: AnomalyRecord) {
  return {
    customer_id: a.customerId,
    metric: a.metric,
    detected_at: toIso(a.detectedAt),
    kind: a.kind,
    current_value: a.currentValue,
    ...signalFieldValues(a),
    severity: a.severity,
    direction: a.direction,
    window: { start: toIso(a.windowStart), end: toIso(a.windowEnd) },
    incident_id: a.incidentId,
    run_id: a.runId,
    expires_at: toIso(a.ttl * 1000),
  }
}

export function incidentJson(i: Incident) {
  return {
    id: i.id,
    customer_id: i.customerId,
    metric: i.metric,
    status: i.status,
    severity: i.severity,
    direction: i.direction,
    opened_at: toIso(i.openedAt),
    last_seen_at: toIso(i.lastSeenAt),
    resolved_at: iso(i.resolvedAt),
    peak_z_score: i.peakZScore,
    last_z_score: i.lastZScore,
    opened_by_signal: i.openedBySignal,
    firing_signals: i.firingSignals,
    detections: i.detections,
    clean_runs: i.cleanRuns,
    last_evaluated_slot: toIso(i.lastEvaluatedSlot),
    acknowledged_at: iso(i.acknowledgedAt),
    acknowledged_by: i.acknowledgedBy,
    feedback:
      i.feedback === null
        ? null
        : { label: i.feedback.label, at: toIso(i.feedback.at), by: i.feedback.by, note: i.feedback.note },
  }
}

/** The seed handler's `{ checked, anomalies_found, timestamp, duration_ms }` plus the rest of the run. */
export function runJson(r: DetectionRun) {
  return {
    run_id: r.runId,
    slot: toIso(r.slot),
    status: r.status,
    checked: r.checked,
    anomalies_found: r.anomaliesFound,
    timestamp: toIso(r.startedAt),
    duration_ms: r.durationMs,
    finished_at: iso(r.finishedAt),
    customers: r.customers,
    anomalies_stored: r.anomaliesStored,
    insufficient_data: r.insufficientData,
    incidents_opened: r.incidentsOpened,
    incidents_escalated: r.incidentsEscalated,
    incidents_resolved: r.incidentsResolved,
    trigger: r.trigger,
    error: r.error,
  }
}

export function customerJson(p: CustomerProfile, registered: boolean) {
  return {
    customer_id: p.customerId,
    status: p.status,
    threshold: p.threshold,
    critical_threshold: p.criticalThreshold,
    metrics: p.metrics,
    detector: p.detector === null ? null : detectorToJson(p.detector),
    registered,
    updated_at: registered ? toIso(p.updatedAt) : null,
  }
}

/** A detector's settings under their API names: the mapping is derived from their declaration. */
export type DetectorJson = DetectorSettingsJson
export { detectorFromJson }

/** A key as the API shows it: never its secret or hash. */
export function apiKeyJson(k: ApiKeyInfo) {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes,
    created_at: toIso(k.createdAt),
    last_used_at: iso(k.lastUsedAt),
    revoked_at: iso(k.revokedAt),
  }
}
