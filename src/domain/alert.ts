import type { WindowKind } from './detector.js'
import type { Incident } from './incident.js'
import type { SignalKind } from './signals/signal-registry.js'
import type { Direction, Severity } from './volume.js'

/** The incident transitions people are told about ('updated' never alerts: that is the point of incidents). */
export type AlertTransition = 'opened' | 'escalated' | 'resolved'
export const ALERT_TRANSITIONS: readonly AlertTransition[] = ['opened', 'escalated', 'resolved']

interface AlertBase {
  /**
   * Stable and unique per alert: the same transition computed twice (a replayed slot) gets the same id, so it is
   * also the idempotency key receivers see (webhook event id). Starts with an ISO time (the alert's; an escalation's
   * is its incident's opening) so ids sort roughly by time.
   */
  id: string
  severity: Severity
  /** When the condition happened (the slot for incident alerts), ms. */
  createdAt: number
  /** One line for subjects and notifications, e.g. "Critical anomaly: acme-corp - api_calls". */
  title: string
  /** Where a person looks at it (the dashboard), when a public URL is configured. */
  link: string | null
}

/** What an alert tells about an incident (a snapshot at the alert's time). */
export type IncidentSummary = Pick<
  Incident,
  | 'id'
  | 'customerId'
  | 'metric'
  | 'status'
  | 'severity'
  | 'direction'
  | 'openedAt'
  | 'resolvedAt'
  | 'peakZScore'
  | 'openedBySignal'
  | 'firingSignals'
>

/** An incident opened, escalated or resolved; carries the seed's SNS fields. */
export interface IncidentAlert extends AlertBase {
  kind: 'incident'
  transition: AlertTransition
  incident: IncidentSummary
  /**
   * The run's evaluation of the series at this transition (for a resolve: the clean value), by the signal named:
   * its figures and its statistic (volume: the z-score).
   */
  detection: {
    signal: SignalKind
    slot: number
    currentValue: number
    baselineMean: number
    baselineStddev: number
    /** Volume's statistic; null for another signal's detection (or no verdict). */
    zScore: number | null
    /** Shape's statistic and the threshold it was held to; absent from another signal's detection. */
    shapeSimilarity?: number | null
    shapeThreshold?: number | null
    windowStart: number
    windowEnd: number
    /**
     * Volume: which of its windows judged the series (day, hour or recent; hour and recent are both one hour, so
     * start and end cannot tell them apart). Absent from another signal's detection and from alerts raised before
     * MeterFlow recorded it.
     */
    windowKind?: WindowKind | null
  }
}

/** The window a volume detection's statistic is about, in words ("recent window"); null when not recorded. */
export function detectionWindow(d: IncidentAlert['detection']): string | null {
  return d.signal === 'volume' && d.windowKind ? `${d.windowKind} window` : null
}

/**
 * The detection's statistic in words, for the channels' summaries: "z-score 4.20 in the recent window" (volume
 * names its window when the alert recorded it), "shape similarity 0.42 < threshold 0.90".
 */
export function detectionStatistic(d: IncidentAlert['detection']): string {
  const fixed = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : n.toFixed(2))
  if (d.signal === 'shape') {
    const below =
      d.shapeSimilarity != null && d.shapeThreshold != null && d.shapeSimilarity < d.shapeThreshold
    return `shape similarity ${fixed(d.shapeSimilarity)} ${below ? '<' : 'vs'} threshold ${fixed(d.shapeThreshold)}`
  }
  const window = detectionWindow(d)
  return `z-score ${fixed(d.zScore)}${window ? ` in the ${window}` : ''}`
}

/** One run opened more incidents than the storm limit: their alerts are held and this one goes to ops instead. */
export interface StormAlert extends AlertBase {
  kind: 'storm'
  storm: {
    runId: string
    slot: number
    opened: number
    limit: number
    /** The first few held incidents, for a glance at what broke. */
    sample: {
      incidentId: string
      customerId: string
      metric: string
      severity: Severity
      direction: Direction
    }[]
  }
}

/** The detection job itself is unhealthy: a run failed or took longer than the limit. */
export interface JobHealthAlert extends AlertBase {
  kind: 'job_health'
  job: {
    problem: 'failed' | 'slow'
    runId: string
    slot: number
    durationMs: number | null
    limitMs: number | null
    error: string | null
  }
}

/** The ops team's periodic summary of incidents (email digest). */
export interface DigestAlert extends AlertBase {
  kind: 'digest'
  digest: {
    from: number
    to: number
    opened: number
    resolved: number
    stillOpen: number
    /** Incidents opened in the period or still open, newest first, capped. */
    incidents: IncidentSummary[]
  }
}

export type Alert = IncidentAlert | StormAlert | JobHealthAlert | DigestAlert
export type AlertKind = Alert['kind']

/**
 * One alert on its way to one channel (the outbox row). pending: waiting for (another) attempt; delivered;
 * failed: dead-lettered after the last attempt or refused by the receiver (retryable by hand); held: stopped by
 * the storm guard; muted: matched a mute when it was raised; suppressed: its incident was acknowledged.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'held' | 'muted' | 'suppressed'
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  'pending',
  'delivered',
  'failed',
  'held',
  'muted',
  'suppressed',
]

export interface AlertDelivery {
  /** `${alert.id}>${channel}`: sorts like the alert's time. */
  id: string
  channel: string
  status: DeliveryStatus
  /** Attempts started so far (an attempt counts when claimed, so a crash mid-send still counts). */
  attempts: number
  /** When a pending delivery is due (next attempt or end of the current attempt's lease), ms. */
  nextAttemptAt: number
  lastError: string | null
  /** When it was written to the outbox, ms. */
  createdAt: number
  updatedAt: number
  deliveredAt: number | null
  alert: Alert
}

export function deliveryId(alertId: string, channel: string): string {
  return `${alertId}${CHANNEL_SEPARATOR}${channel}`
}

const CHANNEL_SEPARATOR = '>'

/** The ids of an alert's deliveries, whatever the channel: `[from, to)` in string order (`>` then `?`). */
export function deliveryIdRange(alertId: string): [from: string, to: string] {
  return [`${alertId}${CHANNEL_SEPARATOR}`, `${alertId}?`]
}

/** A per-customer and/or per-metric silence until `until`; null fields match everything. */
export interface Mute {
  id: string
  customerId: string | null
  metric: string | null
  until: number
  reason: string | null
  createdAt: number
}
