import type { Alert, AlertKind, AlertTransition } from '../../../domain/alert.js'
import type { Severity } from '../../../domain/volume.js'

/**
 * The webhook body: a public contract, so spelled out field by field (snake_case, ISO times) rather than
 * derived from the internal types, whose renames must not break receivers.
 */
export interface WebhookPayload {
  /** Also the X-MeterFlow-Event-Id header: the receiver's idempotency key. */
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

const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

function data(alert: Alert): Record<string, unknown> {
  switch (alert.kind) {
    case 'incident': {
      const { incident: i, detection: d } = alert
      return {
        incident: {
          id: i.id,
          customer_id: i.customerId,
          metric: i.metric,
          status: i.status,
          severity: i.severity,
          direction: i.direction,
          opened_at: iso(i.openedAt),
          resolved_at: isoOrNull(i.resolvedAt),
          peak_z_score: i.peakZScore,
        },
        detection: {
          slot: iso(d.slot),
          current_value: d.currentValue,
          baseline_mean: d.baselineMean,
          baseline_stddev: d.baselineStddev,
          z_score: d.zScore,
          window_start: iso(d.windowStart),
          window_end: iso(d.windowEnd),
        },
      }
    }
    case 'storm': {
      const s = alert.storm
      return {
        storm: {
          run_id: s.runId,
          slot: iso(s.slot),
          opened: s.opened,
          limit: s.limit,
          sample: s.sample.map((x) => ({
            incident_id: x.incidentId,
            customer_id: x.customerId,
            metric: x.metric,
            severity: x.severity,
            direction: x.direction,
          })),
        },
      }
    }
    case 'job_health': {
      const j = alert.job
      return {
        job: {
          problem: j.problem,
          run_id: j.runId,
          slot: iso(j.slot),
          duration_ms: j.durationMs,
          limit_ms: j.limitMs,
          error: j.error,
        },
      }
    }
    case 'digest': {
      const g = alert.digest
      return {
        digest: {
          from: iso(g.from),
          to: iso(g.to),
          opened: g.opened,
          resolved: g.resolved,
          still_open: g.stillOpen,
          incidents: g.incidents.map((x) => ({
            id: x.id,
            customer_id: x.customerId,
            metric: x.metric,
            status: x.status,
            severity: x.severity,
            direction: x.direction,
            opened_at: iso(x.openedAt),
            resolved_at: isoOrNull(x.resolvedAt),
            peak_z_score: x.peakZScore,
          })),
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
    created_at: iso(alert.createdAt),
    severity: alert.severity,
    title: alert.title,
    link: alert.link,
    data: data(alert),
  }
}
