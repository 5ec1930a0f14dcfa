import { combineVerdicts } from './signals/combined-verdict.js'
import type { SignalVerdict } from './signals/signal.js'
import { LEGACY_SIGNAL_KIND, type SignalKind, VOLUME_KIND } from './signals/signal-registry.js'
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
 * resolved after enough clean runs. Alerts follow transitions, not detections. Every signal of the series joins
 * the same incident: it says which one opened it and which are firing now.
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
  /** The volume signal's z-score (the seed's statistic): its largest |z| and its latest, 0 until it has one. */
  peakZScore: number
  lastZScore: number
  /** The signal whose anomaly opened the incident. */
  openedBySignal: SignalKind
  /** The signals anomalous at the latest run with a verdict (none after a clean run). */
  firingSignals: SignalKind[]
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
 * Applies one run's verdicts on a customer x metric (one per signal, in registration order) to its open incident
 * (or null). Pure; idempotent per slot: replaying a slot that was already applied returns the incident unchanged
 * and no transition. The run is anomalous when any signal fires (severity: the highest; direction: the first
 * firing signal's); clean when none fires and at least one had a verdict.
 */
export function applySignals(
  pair: { customerId: string; metric: string },
  open: Incident | null,
  verdicts: readonly SignalVerdict<SignalKind>[],
  slot: number,
  options: IncidentOptions,
): IncidentStep {
  if (open && slot <= open.lastEvaluatedSlot) return { incident: open, transition: null }
  const { severity, direction, fired } = combineVerdicts(verdicts)
  const opener = fired[0]
  // Incidents keep the volume signal's z-score (the seed's peak/last fields), whichever signal fired.
  const z = verdicts.find((v) => v.kind === VOLUME_KIND && v.status === 'ok')?.statistic ?? null
  if (!open) {
    if (!opener || !severity || !direction) return { incident: null, transition: null }
    return {
      transition: 'opened',
      incident: {
        id: incidentId(pair.customerId, pair.metric, slot),
        customerId: pair.customerId,
        metric: pair.metric,
        status: 'open',
        severity,
        direction,
        openedAt: slot,
        lastSeenAt: slot,
        resolvedAt: null,
        peakZScore: z ?? 0,
        lastZScore: z ?? 0,
        openedBySignal: opener,
        firingSignals: fired,
        detections: 1,
        cleanRuns: 0,
        lastEvaluatedSlot: slot,
        acknowledgedAt: null,
        acknowledgedBy: null,
        feedback: null,
      },
    }
  }
  if (opener && severity) {
    const escalated = open.severity === 'warning' && severity === 'critical'
    return {
      transition: escalated ? 'escalated' : 'updated',
      incident: {
        ...open,
        severity: escalated ? 'critical' : open.severity,
        lastSeenAt: slot,
        peakZScore: z !== null && Math.abs(z) > Math.abs(open.peakZScore) ? z : open.peakZScore,
        lastZScore: z ?? open.lastZScore,
        firingSignals: fired,
        detections: open.detections + 1,
        cleanRuns: 0,
        lastEvaluatedSlot: slot,
      },
    }
  }
  // No verdict (too little data) is not evidence of recovery: keep the incident as it is.
  if (verdicts.every((v) => v.status === 'insufficient_data')) {
    return { incident: { ...open, lastEvaluatedSlot: slot }, transition: null }
  }
  const cleanRuns = open.cleanRuns + 1
  const clean = { ...open, cleanRuns, firingSignals: [], lastEvaluatedSlot: slot }
  if (cleanRuns >= options.resolveAfterCleanRuns) {
    return { transition: 'resolved', incident: { ...clean, status: 'resolved', resolvedAt: slot } }
  }
  return { incident: clean, transition: null }
}

/** applySignals for a series judged by the volume signal alone. */
export function applyVerdict(
  pair: { customerId: string; metric: string },
  open: Incident | null,
  verdict: VolumeVerdict,
  slot: number,
  options: IncidentOptions,
): IncidentStep {
  const { status, isAnomaly, severity, direction, currentValue, zScore } = verdict
  const signal = {
    kind: VOLUME_KIND,
    status,
    isAnomaly,
    severity,
    direction,
    currentValue,
    statistic: zScore,
  }
  return applySignals(pair, open, [signal], slot, options)
}

/**
 * What an incident stored before signals existed says about them: the volume signal opened it, and it was
 * firing at the latest run unless that run was clean.
 */
export function legacySignals(
  incident: Pick<Incident, 'status' | 'cleanRuns'>,
): Pick<Incident, 'openedBySignal' | 'firingSignals'> {
  const firing = incident.status === 'open' && incident.cleanRuns === 0
  return { openedBySignal: LEGACY_SIGNAL_KIND, firingSignals: firing ? [LEGACY_SIGNAL_KIND] : [] }
}
