import type {
  Alert,
  AlertTransition,
  DigestAlert,
  IncidentAlert,
  IncidentSummary,
  JobHealthAlert,
  Mute,
  StormAlert,
} from './alert.js'
import type { Incident } from './incident.js'
import type { DetectionRun } from './run.js'
import { LEGACY_SIGNAL_KIND } from './signals/signal-registry.js'
import { toIso } from './time.js'

/** The seed's subject wording for an opening: "Critical anomaly: {customer} - {metric}". */
export function incidentTitle(incident: Incident, transition: AlertTransition): string {
  const series = `${incident.customerId} - ${incident.metric}`
  if (transition === 'escalated') return `Escalated to critical: ${series}`
  if (transition === 'resolved') return `Resolved: ${series}`
  return `${incident.severity === 'critical' ? 'Critical' : 'Warning'} anomaly: ${series}`
}

/** The incident as an alert reports it: a snapshot, so the alert says what was true when it was raised. */
export function summarize(i: Incident): IncidentSummary {
  return {
    id: i.id,
    customerId: i.customerId,
    metric: i.metric,
    status: i.status,
    severity: i.severity,
    direction: i.direction,
    openedAt: i.openedAt,
    resolvedAt: i.resolvedAt,
    peakZScore: i.peakZScore,
    openedBySignal: i.openedBySignal,
    firingSignals: [...i.firingSignals],
  }
}

/**
 * An alert as read back from the outbox: one written before signals existed lacks their fields, and was about the
 * volume signal (the only one then). Fills them in so that channels format every alert alike.
 */
export function withLegacySignals(alert: Alert): Alert {
  const summary = (i: IncidentSummary): IncidentSummary => ({
    ...i,
    openedBySignal: i.openedBySignal ?? LEGACY_SIGNAL_KIND,
    firingSignals: i.firingSignals ?? (i.status === 'open' ? [LEGACY_SIGNAL_KIND] : []),
  })
  if (alert.kind === 'incident') {
    return {
      ...alert,
      incident: summary(alert.incident),
      detection: { ...alert.detection, signal: alert.detection.signal ?? LEGACY_SIGNAL_KIND },
    }
  }
  if (alert.kind === 'digest')
    return { ...alert, digest: { ...alert.digest, incidents: alert.digest.incidents.map(summary) } }
  return alert
}

/**
 * The id of an incident's alert for a transition at a slot. An incident escalates once (severity never goes
 * back): its escalation is keyed by the incident, not the slot, so an escalation computed again by a later run
 * (after one failed between its two writes) is the same alert, not a second one.
 */
export function incidentAlertId(
  incident: Pick<Incident, 'id' | 'openedAt'>,
  transition: AlertTransition,
  slot: number,
): string {
  return `${toIso(transition === 'escalated' ? incident.openedAt : slot)}|${transition}|${incident.id}`
}

export function incidentAlert(
  incident: Incident,
  transition: AlertTransition,
  detection: IncidentAlert['detection'],
  link: string | null,
): IncidentAlert {
  return {
    kind: 'incident',
    id: incidentAlertId(incident, transition, detection.slot),
    severity: incident.severity,
    createdAt: detection.slot,
    title: incidentTitle(incident, transition),
    link,
    transition,
    incident: summarize(incident),
    detection,
  }
}

const STORM_SAMPLE = 20

/** One summary instead of `opened.length` alerts: above the limit the likely cause is system-wide. */
export function stormAlert(
  run: Pick<DetectionRun, 'runId' | 'slot'>,
  opened: readonly Incident[],
  limit: number,
  link: string | null,
): StormAlert {
  return {
    kind: 'storm',
    id: `${toIso(run.slot)}|storm`,
    severity: 'critical',
    createdAt: run.slot,
    title: `Alert storm: ${opened.length} incidents opened in one run (limit ${limit}), possible system issue`,
    link,
    storm: {
      runId: run.runId,
      slot: run.slot,
      opened: opened.length,
      limit,
      sample: opened.slice(0, STORM_SAMPLE).map((i) => ({
        incidentId: i.id,
        customerId: i.customerId,
        metric: i.metric,
        severity: i.severity,
        direction: i.direction,
      })),
    },
  }
}

/** A failed run, or one slower than `slowMs`; null when the run is healthy (or still running). */
export function jobHealthAlert(
  run: DetectionRun,
  slowMs: number,
  link: string | null,
): JobHealthAlert | null {
  const failed = run.status === 'failed'
  const slow = run.status === 'completed' && run.durationMs !== null && run.durationMs > slowMs
  if (!failed && !slow) return null
  const problem = failed ? 'failed' : 'slow'
  return {
    kind: 'job_health',
    id: `${toIso(run.startedAt)}|job_${problem}|${run.runId}`,
    severity: failed ? 'critical' : 'warning',
    createdAt: run.finishedAt ?? run.startedAt,
    title: failed
      ? `Detection run failed for slot ${toIso(run.slot)}`
      : `Detection run took ${Math.round((run.durationMs ?? 0) / 1000)} s for slot ${toIso(run.slot)} (limit ${Math.round(slowMs / 1000)} s)`,
    link,
    job: {
      problem,
      runId: run.runId,
      slot: run.slot,
      durationMs: run.durationMs,
      limitMs: failed ? null : slowMs,
      error: run.error,
    },
  }
}

const DIGEST_INCIDENTS = 100

/** The ops summary of [from, to): incidents opened in it and those still open, newest first. */
export function digestAlert(
  from: number,
  to: number,
  incidents: readonly Incident[],
  link: string | null,
): DigestAlert {
  const opened = incidents.filter((i) => i.openedAt >= from && i.openedAt < to)
  const resolved = incidents.filter((i) => i.resolvedAt !== null && i.resolvedAt >= from && i.resolvedAt < to)
  const stillOpen = incidents.filter((i) => i.status === 'open')
  const listed = [...new Map([...opened, ...stillOpen].map((i) => [i.id, i])).values()]
    .sort((a, b) => b.openedAt - a.openedAt)
    .slice(0, DIGEST_INCIDENTS)
  return {
    kind: 'digest',
    id: `${toIso(to)}|digest`,
    severity: stillOpen.some((i) => i.severity === 'critical') ? 'critical' : 'warning',
    createdAt: to,
    title: `MeterFlow daily digest: ${opened.length} opened, ${resolved.length} resolved, ${stillOpen.length} open`,
    link,
    digest: {
      from,
      to,
      opened: opened.length,
      resolved: resolved.length,
      stillOpen: stillOpen.length,
      incidents: listed.map(summarize),
    },
  }
}

/** The first active mute matching an incident alert (null fields match anything); ops alerts are never muted. */
export function matchingMute(alert: Alert, mutes: readonly Mute[], now: number): Mute | null {
  if (alert.kind !== 'incident') return null
  const { customerId, metric } = alert.incident
  return (
    mutes.find(
      (m) =>
        m.until > now &&
        (m.customerId === null || m.customerId === customerId) &&
        (m.metric === null || m.metric === metric),
    ) ?? null
  )
}

/**
 * Whether the stored incident shows the transition an alert announces. Alerts are written before the incident
 * (the outbox entry must exist if the transition does); one whose transition never got recorded (the run died
 * between the two writes, or a concurrent replay won) must not be sent.
 */
export function confirmsTransition(incident: Incident | null, alert: IncidentAlert): boolean {
  if (!incident || incident.id !== alert.incident.id) return false
  const slot = alert.detection.slot
  switch (alert.transition) {
    case 'opened':
      return incident.openedAt === slot
    case 'escalated':
      return incident.severity === 'critical' && incident.lastEvaluatedSlot >= slot
    case 'resolved':
      return incident.status === 'resolved' && incident.resolvedAt === slot
  }
}

export interface RetryPolicy {
  maxAttempts: number
  baseMs: number
  maxMs: number
}

/**
 * Exponential backoff after failed attempt `attempt` (1-based): base, 2 base, 4 base ... capped at max; a
 * receiver's own Retry-After wins when it asks for longer. Null when the attempts are used up.
 */
export function nextRetryDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number | null {
  if (attempt >= policy.maxAttempts) return null
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30))
  // A receiver's Retry-After is honoured up to the longest backoff: beyond that it would park the alert for days.
  return Math.max(exponential, Math.min(retryAfterMs ?? 0, policy.maxMs))
}
