import type { Alert, AlertKind, AlertTransition } from '../../../domain/alert.js'
import { toIso } from '../../../domain/time.js'
import type { Severity } from '../../../domain/volume.js'
import { incidentJson, jobJson, stormJson } from '../json.js'

/**
 * The webhook body: a public contract, so spelled out field by field (snake_case, ISO times) rather than
 * derived from the internal types, whose renames must not break receivers.
 */
export interface WebhookPayload {
  /** The alert id (the `webhook-id` header, derived from the delivery, is the receiver's idempotency key). */
  id: string
  type: AlertKind
  /** Incident alerts only. */
  transition?: AlertTransition
  created_at: string
  severity: Severity
  title: string
  link: string | null
  data: Record<string, unknown>
}

function data(alert: Alert): Record<string, unknown> {
  switch (alert.kind) {
    case 'incident': {
      const { incident: i, detection: d } = alert
      return {
        incident: incidentJson(i),
        detection: {
          signal: d.signal,
          slot: toIso(d.slot),
          current_value: d.currentValue,
          baseline_mean: d.baselineMean,
          baseline_stddev: d.baselineStddev,
          z_score: d.zScore,
          shape_similarity: d.shapeSimilarity,
          shape_threshold: d.shapeThreshold,
          window_start: toIso(d.windowStart),
          window_end: toIso(d.windowEnd),
          window_kind: d.windowKind,
        },
      }
    }
    case 'storm':
      return { storm: stormJson(alert.storm) }
    case 'job_health':
      return { job: jobJson(alert.job) }
    case 'digest': {
      const g = alert.digest
      return {
        digest: {
          from: toIso(g.from),
          to: toIso(g.to),
          opened: g.opened,
          resolved: g.resolved,
          still_open: g.stillOpen,
          incidents: g.incidents.map(incidentJson),
        },
      }
    }
  }
}

export function webhookPayload(alert: Alert): WebhookPayload {
  return {
    id: alert.id,
    type: alert.kind,
    ...(alert.kind === 'incident' ? { transition: alert.transition } : {}),
    created_at: toIso(alert.createdAt),
    severity: alert.severity,
    title: alert.title,
    link: alert.link,
    data: data(alert),
  }
}
