import { createHash } from 'node:crypto'
import type { MessageAttributeValue, PublishCommandInput } from '@aws-sdk/client-sns'
import type { Alert, DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../../../domain/alert.js'
import { DAY_MS, toIso } from '../../../domain/time.js'
import { jobJson, stormJson } from '../json.js'

/** SNS requires a subject shorter than 100 characters. */
export const SNS_SUBJECT_MAX = 99
/** SNS caps a message (attributes included) at 256 KB; the rest is headroom for subject and attributes. */
export const SNS_MESSAGE_BUDGET_BYTES = 240_000
/** Lists in a message are cut to this many items before the byte budget is even considered. */
export const SNS_LIST_MAX = 500
/** A job error can be a whole stack trace: subscribers get its start. */
const ERROR_TEXT_MAX = 4_000

const PREFIX = '[MeterFlow]'

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}

/** 754000 -> "12m 34s": durations in subjects are read by people. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`
}

function incidentSubject(alert: IncidentAlert): string {
  const series = `${alert.incident.customerId} - ${alert.incident.metric}`
  switch (alert.transition) {
    case 'opened':
      return `${capitalize(alert.incident.severity)} anomaly: ${series}`
    case 'escalated':
      return `Escalated to critical: ${series}`
    case 'resolved':
      return `Resolved: ${series}`
  }
}

function digestLabel(alert: DigestAlert): string {
  return alert.digest.to - alert.digest.from <= DAY_MS ? 'Daily digest' : 'Digest'
}

/**
 * The subject every channel uses, e.g. "[MeterFlow] Critical anomaly: acme-corp - api_calls" (the seed's SNS
 * subject). Not length-limited or sanitized: see snsSubject for SNS's rules.
 */
export function alertSubject(alert: Alert): string {
  switch (alert.kind) {
    case 'incident':
      return `${PREFIX} ${incidentSubject(alert)}`
    case 'storm':
      return `${PREFIX} Alert storm: ${alert.storm.opened} incidents opened in one run (limit ${alert.storm.limit})`
    case 'job_health':
      return alert.job.problem === 'failed'
        ? `${PREFIX} Detection job failed (run ${alert.job.runId})`
        : `${PREFIX} Detection job slow: ${formatDuration(alert.job.durationMs ?? 0)}${
            alert.job.limitMs === null ? '' : ` (limit ${formatDuration(alert.job.limitMs)})`
          }`
    case 'digest': {
      const d = alert.digest
      return `${PREFIX} ${digestLabel(alert)} ${toIso(d.to).slice(0, 10)}: ${d.opened} opened, ${d.resolved} resolved, ${d.stillOpen} still open`
    }
  }
}

/**
 * SNS rejects a subject that is 100 characters or longer, contains line breaks or control characters, or is not
 * ASCII: whitespace and controls become one space, other non-ASCII code points '?', and a long subject is cut
 * with '...' (ASCII, so the cut cannot split a character).
 */
export function snsSubject(text: string): string {
  const clean = text
    .replace(/\p{Cf}/gu, '')
    .replace(/[\p{Cc}\p{Z}]+/gu, ' ')
    .replace(/[^\x20-\x7e]/gu, '?')
    .replace(/ {2,}/g, ' ')
    .trim()
  if (clean === '') return 'MeterFlow alert'
  if (clean.length <= SNS_SUBJECT_MAX) return clean
  return `${clean.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...`
}

function cut(text: string | null, max: number): string | null {
  return text === null || text.length <= max
    ? text
    : `${text.slice(0, max)}... (${text.length - max} more chars)`
}

/**
 * Renders a message holding a list with as many items as fit the byte budget: halves the list until it fits,
 * and says how many were left out so a subscriber knows the list is partial.
 */
export function fitList<T>(
  items: readonly T[],
  render: (shown: readonly T[], omitted: number) => string,
): string {
  let count = Math.min(items.length, SNS_LIST_MAX)
  for (;;) {
    const message = render(items.slice(0, count), items.length - count)
    if (count === 0 || Buffer.byteLength(message, 'utf8') <= SNS_MESSAGE_BUDGET_BYTES) return message
    count = Math.floor(count / 2)
  }
}

function incidentMessage(alert: IncidentAlert): string {
  const { incident, detection } = alert
  return JSON.stringify({
    kind: alert.kind,
    customer_id: incident.customerId,
    metric: incident.metric,
    current_value: detection.currentValue,
    baseline_mean: detection.baselineMean,
    z_score: detection.zScore,
    window_kind: detection.windowKind,
    detected_at: toIso(detection.slot),
    severity: incident.severity,
    direction: incident.direction,
    transition: alert.transition,
    incident_id: incident.id,
    alert_id: alert.id,
    link: alert.link,
    signal: detection.signal,
    shape_similarity: detection.shapeSimilarity,
    shape_threshold: detection.shapeThreshold,
    opened_by_signal: incident.openedBySignal,
    firing_signals: incident.firingSignals,
  })
}

function stormMessage(alert: StormAlert): string {
  const { storm } = alert
  return fitList(storm.sample, (shown, omitted) =>
    JSON.stringify({
      kind: alert.kind,
      alert_id: alert.id,
      severity: alert.severity,
      title: alert.title,
      ...stormJson(storm, shown),
      sample_omitted: omitted,
      link: alert.link,
    }),
  )
}

function jobHealthMessage(alert: JobHealthAlert): string {
  const { job } = alert
  return JSON.stringify({
    kind: alert.kind,
    alert_id: alert.id,
    severity: alert.severity,
    title: alert.title,
    ...jobJson(job, cut(job.error, ERROR_TEXT_MAX)),
    link: alert.link,
  })
}

function digestMessage(alert: DigestAlert): string {
  const { digest } = alert
  return fitList(digest.incidents, (shown, omitted) =>
    JSON.stringify({
      kind: alert.kind,
      alert_id: alert.id,
      from: toIso(digest.from),
      to: toIso(digest.to),
      opened: digest.opened,
      resolved: digest.resolved,
      still_open: digest.stillOpen,
      incidents: shown.map((i) => ({
        incident_id: i.id,
        customer_id: i.customerId,
        metric: i.metric,
        status: i.status,
        severity: i.severity,
        direction: i.direction,
        opened_at: toIso(i.openedAt),
        resolved_at: i.resolvedAt === null ? null : toIso(i.resolvedAt),
        peak_z_score: i.peakZScore,
      })),
      incidents_omitted: omitted,
      link: alert.link,
    }),
  )
}

/** The JSON body: the seed's fields for incident alerts, each kind's own fields otherwise. */
export function snsMessage(alert: Alert): string {
  switch (alert.kind) {
    case 'incident':
      return incidentMessage(alert)
    case 'storm':
      return stormMessage(alert)
    case 'job_health':
      return jobHealthMessage(alert)
    case 'digest':
      return digestMessage(alert)
  }
}

/** String attributes subscribers can filter on (SNS filter policies); SNS refuses empty values. */
export function snsMessageAttributes(alert: Alert): Record<string, MessageAttributeValue> {
  const values: Record<string, string | undefined> = {
    kind: alert.kind,
    severity: alert.kind === 'incident' ? alert.incident.severity : alert.severity,
    metric: alert.kind === 'incident' ? alert.incident.metric : undefined,
    transition: alert.kind === 'incident' ? alert.transition : undefined,
  }
  const attributes: Record<string, MessageAttributeValue> = {}
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== '') attributes[name] = { DataType: 'String', StringValue: value }
  }
  return attributes
}

/**
 * The whole Publish request. A FIFO topic refuses a message without a group id; the deduplication id derived from
 * the delivery id makes SNS drop a retry of a publish that did go through (5 minute window).
 */
export function snsPublishInput(alert: Alert, topicArn: string, deliveryId: string): PublishCommandInput {
  const input: PublishCommandInput = {
    TopicArn: topicArn,
    Subject: snsSubject(alertSubject(alert)),
    Message: snsMessage(alert),
    MessageAttributes: snsMessageAttributes(alert),
  }
  if (!topicArn.endsWith('.fifo')) return input
  return {
    ...input,
    MessageGroupId: 'meterflow-alerts',
    MessageDeduplicationId: createHash('sha256').update(deliveryId).digest('hex'),
  }
}
