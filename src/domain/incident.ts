import type { Direction, Severity, VolumeVerdict } from './volume.js'

export type IncidentStatus = 'open' | 'resolved'

/** What a person said an incident was: either way it was not a usage change to learn from. */
export type FeedbackLabel = 'false_positive' | 'planned'
export const FEEDBACK_LABELS: readonly FeedbackLabel[] = ['false_positive', 'planned']

export interface IncidentFeedback {
  label: FeedbackLabel
  at: number
  by: string | null
  note: string | null
}
export type IncidentTransition = 'opened' | 'escalated' | 'updated' | 'resolved'

/**
 * An anomaly that persists across runs, per customer and metric: opened once, updated while it lasts,
 * resolved after enough clean runs. Alerts follow transitions, not detections.
 */
export interface Incident {
  id: string
  customerId: string
  metric: string
  status: IncidentStatus
  severity: Severity
  direction: Direction
  openedAt: number
  lastSeenAt: number
  resolvedAt: number | null
  peakZScore: number
  lastZScore: number
  detections: number
  /** Consecutive runs without an anomaly since the last detection. */
  cleanRuns: number
  /** The latest slot applied: a slot at or before it is a replay and changes nothing. */
  lastEvaluatedSlot: number
  /** Set by a person (POST /v1/incidents/:id/ack): escalations are no longer notified. */
  acknowledgedAt: number | null
  acknowledgedBy: string | null
  /** Set by a person (POST /v1/incidents/:id/feedback): the incident's days leave future baselines. */
  feedback: IncidentFeedback | null
}

/**
 * The period a labelled incident covers, as baseline exclusion: from the start of the first window that fired to
 * its resolution. An open incident's period ends when it was labelled: what follows is learned normally, so a
 * planned change that lasts becomes the new normal instead of blinding the series for good.
 */
export function feedbackExclusion(incident: Incident): TimeRange {
  const resolved = incident.status === 'resolved' && incident.resolvedAt !== null
  return {
    start: incident.openedAt - 24 * 3_600_000,
    end: resolved ? (incident.resolvedAt as number) : (incident.feedback?.at ?? Number.POSITIVE_INFINITY),
  }
}

export interface TimeRange {
  start: number
  end: number
}

export interface IncidentOptions {
  /** Clean runs in a row that resolve an incident (default 2). */
  resolveAfterCleanRuns: number
}

export const DEFAULT_INCIDENT_OPTIONS: IncidentOptions = { resolveAfterCleanRuns: 2 }

export interface IncidentStep {
  incident: Incident | null
  transition: IncidentTransition | null
}

export function incidentId(customerId: string, metric: string, openedAt: number): string {
  return `${customerId}|${metric}|${new Date(openedAt).toISOString()}`
}

/**
 * Applies one run's verdict to the open incident of a customer x metric (or null). Pure; idempotent per slot:
 * replaying a slot that was already applied returns the incident unchanged and no transition.
 */
export function applyVerdict(
  pair: { customerId: string; metric: string },
  open: Incident | null,
  verdict: VolumeVerdict,
  slot: number,
  options: IncidentOptions,
): IncidentStep {
  if (open && slot <= open.lastEvaluatedSlot) return { incident: open, transition: null }
  const anomalous = verdict.status === 'ok' && verdict.isAnomaly && verdict.severity && verdict.direction
  if (!open) {
    if (!anomalous || !verdict.severity || !verdict.direction || verdict.zScore === null) {
      return { incident: null, transition: null }
    }
    return {
      transition: 'opened',
      incident: {
        id: incidentId(pair.customerId, pair.metric, slot),
        customerId: pair.customerId,
        metric: pair.metric,
        status: 'open',
        severity: verdict.severity,
        direction: verdict.direction,
        openedAt: slot,
        lastSeenAt: slot,
        resolvedAt: null,
        peakZScore: verdict.zScore,
        lastZScore: verdict.zScore,
        detections: 1,
        cleanRuns: 0,
        lastEvaluatedSlot: slot,
        acknowledgedAt: null,
        acknowledgedBy: null,
        feedback: null,
      },
    }
  }
  if (anomalous && verdict.severity && verdict.zScore !== null) {
    const escalated = open.severity === 'warning' && verdict.severity === 'critical'
    return {
      transition: escalated ? 'escalated' : 'updated',
      incident: {
        ...open,
        severity: escalated ? 'critical' : open.severity,
        lastSeenAt: slot,
        peakZScore: Math.abs(verdict.zScore) > Math.abs(open.peakZScore) ? verdict.zScore : open.peakZScore,
        lastZScore: verdict.zScore,
        detections: open.detections + 1,
        cleanRuns: 0,
        lastEvaluatedSlot: slot,
      },
    }
  }
  // No verdict (too little data) is not evidence of recovery: keep the incident as it is.
  if (verdict.status === 'insufficient_data') {
    return { incident: { ...open, lastEvaluatedSlot: slot }, transition: null }
  }
  const cleanRuns = open.cleanRuns + 1
  if (cleanRuns >= options.resolveAfterCleanRuns) {
    return {
      transition: 'resolved',
      incident: { ...open, status: 'resolved', cleanRuns, resolvedAt: slot, lastEvaluatedSlot: slot },
    }
  }
  return { incident: { ...open, cleanRuns, lastEvaluatedSlot: slot }, transition: null }
}
