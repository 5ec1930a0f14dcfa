import type { IncidentSummary, JobHealthAlert, StormAlert } from '../../domain/alert.js'
import { toIso } from '../../domain/time.js'

/*
 * The snake_case wire shape (ISO times) of the alert parts the channels share: the webhook's data, PagerDuty's
 * custom_details and SNS messages embed these as they are. Payloads are public contracts, so a change here is a
 * change for every channel that uses them.
 */

type Storm = StormAlert['storm']
type StormSample = Storm['sample'][number]
type Job = JobHealthAlert['job']

/** `sample` is the storm's own unless a channel with a size budget passes the part it has room for. */
export function stormJson(s: Storm, sample: readonly StormSample[] = s.sample) {
  return {
    run_id: s.runId,
    slot: toIso(s.slot),
    opened: s.opened,
    limit: s.limit,
    sample: sample.map((x) => ({
      incident_id: x.incidentId,
      customer_id: x.customerId,
      metric: x.metric,
      severity: x.severity,
      direction: x.direction,
    })),
  }
}

/** `error` is the job's own unless a channel with a size limit passes it shortened. */
export function jobJson(j: Job, error: string | null = j.error) {
  return {
    problem: j.problem,
    run_id: j.runId,
    slot: toIso(j.slot),
    duration_ms: j.durationMs,
    limit_ms: j.limitMs,
    error,
  }
}

/** An incident as an alert or a digest tells about it. */
export function incidentJson(i: IncidentSummary) {
  return {
    id: i.id,
    customer_id: i.customerId,
    metric: i.metric,
    status: i.status,
    severity: i.severity,
    direction: i.direction,
    opened_at: toIso(i.openedAt),
    resolved_at: i.resolvedAt === null ? null : toIso(i.resolvedAt),
    peak_z_score: i.peakZScore,
    opened_by_signal: i.openedBySignal,
    firing_signals: i.firingSignals,
  }
}
