import { createHash } from 'node:crypto'
import {
  type Alert,
  detectionStatistic,
  detectionWindow,
  type IncidentAlert,
  type JobHealthAlert,
  type StormAlert,
} from '../../../domain/alert.js'
import { toIso } from '../../../domain/time.js'
import { truncate } from '../http.js'
import { jobJson, stormJson } from '../json.js'

/** Events API v2 limits: longer values are refused with 400. */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 } as const

export interface PagerDutyPayload {
  summary: string
  severity: 'critical' | 'error' | 'warning' | 'info'
  source: string
  component: string
  group: string
  class: string
  custom_details: Record<string, unknown>
  timestamp: string
}

export type PagerDutyEvent =
  | {
      routing_key: string
      event_action: 'trigger'
      dedup_key: string
      payload: PagerDutyPayload
      client: string
      client_url?: string
      links?: { href: string; text: string }[]
    }
  | { routing_key: string; event_action: 'resolve'; dedup_key: string }

/** PagerDuty collapses events by dedup_key; an over-long one (a long customer id) is hashed to stay stable. */
export function dedupKey(id: string): string {
  if (id.length <= PAGERDUTY_LIMITS.dedupKey) return id
  return `sha256:${createHash('sha256').update(id).digest('hex')}`
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })
const num = (n: number) => numberFormat.format(n)

function trigger(
  alert: Alert,
  routingKey: string,
  key: string,
  payload: Omit<PagerDutyPayload, 'severity' | 'timestamp'>,
): PagerDutyEvent {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey(key),
    payload: {
      ...payload,
      summary: truncate(payload.summary, PAGERDUTY_LIMITS.summary),
      severity: alert.severity,
      timestamp: toIso(alert.createdAt),
    },
    client: 'MeterFlow',
    ...(alert.link
      ? { client_url: alert.link, links: [{ href: alert.link, text: 'Open in MeterFlow' }] }
      : {}),
  }
}

function incidentEvent(alert: IncidentAlert, routingKey: string): PagerDutyEvent {
  const { incident: i, detection: d } = alert
  // One PagerDuty incident per MeterFlow incident: retries, escalations and the resolve all share its id.
  if (alert.transition === 'resolved') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey(i.id) }
  }
  // Volume keeps the seed's short "z -8.09" (plus the window that judged it); another signal says what its statistic is.
  const window = detectionWindow(d)
  const statistic =
    d.signal === 'volume'
      ? `z ${d.zScore === null ? 'n/a' : d.zScore.toFixed(2)}${window ? ` in the ${window}` : ''}`
      : detectionStatistic(d)
  // The title already names the transition ("Escalated to critical: ...").
  return trigger(alert, routingKey, i.id, {
    summary: `${alert.title}: ${num(d.currentValue)} vs baseline mean ${num(d.baselineMean)} (${statistic}, ${i.direction})`,
    source: i.customerId,
    component: i.metric,
    group: 'usage',
    class: `usage_${i.direction}`,
    custom_details: {
      transition: alert.transition,
      incident_id: i.id,
      customer_id: i.customerId,
      metric: i.metric,
      direction: i.direction,
      severity: i.severity,
      signal: d.signal,
      opened_by_signal: i.openedBySignal,
      firing_signals: i.firingSignals,
      current_value: d.currentValue,
      baseline_mean: d.baselineMean,
      baseline_stddev: d.baselineStddev,
      z_score: d.zScore,
      shape_similarity: d.shapeSimilarity,
      shape_threshold: d.shapeThreshold,
      peak_z_score: i.peakZScore,
      slot: toIso(d.slot),
      window_start: toIso(d.windowStart),
      window_end: toIso(d.windowEnd),
      window_kind: d.windowKind,
      opened_at: toIso(i.openedAt),
    },
  })
}

function stormEvent(alert: StormAlert, routingKey: string): PagerDutyEvent {
  return trigger(alert, routingKey, alert.id, {
    summary: alert.title,
    source: 'meterflow',
    component: 'alerting',
    group: 'ops',
    class: 'alert_storm',
    custom_details: stormJson(alert.storm),
  })
}

function jobHealthEvent(alert: JobHealthAlert, routingKey: string): PagerDutyEvent {
  const j = alert.job
  // One PagerDuty incident per kind of job problem, not one per hourly run: an outage of the usage store fails
  // every run, and each would otherwise page anew (PagerDuty adds repeats to the open incident).
  return trigger(alert, routingKey, `meterflow-job-${j.problem}`, {
    summary: j.error ? `${alert.title}: ${j.error}` : alert.title,
    source: 'meterflow',
    component: 'detection-job',
    group: 'ops',
    class: j.problem === 'failed' ? 'job_failed' : 'job_slow',
    // A stack trace can be long; the whole event must stay well under PagerDuty's 512 KB.
    custom_details: jobJson(j, j.error === null ? null : truncate(j.error, 8000)),
  })
}

/** The Events API v2 body for one alert; null for a digest, which PagerDuty has no use for. */
export function pagerDutyEvent(alert: Alert, routingKey: string): PagerDutyEvent | null {
  switch (alert.kind) {
    case 'incident':
      return incidentEvent(alert, routingKey)
    case 'storm':
      return stormEvent(alert, routingKey)
    case 'job_health':
      return jobHealthEvent(alert, routingKey)
    case 'digest':
      return null
  }
}
