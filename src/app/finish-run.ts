import type { Incident } from '../domain/incident.js'
import type { DetectionRun } from '../domain/run.js'
import type { Severity } from '../domain/volume.js'
import type { TransitionAlert } from './alerting/raise.js'
import type { RangeEvaluation } from './evaluate-range.js'
import type { DetectionDeps, DetectionOutcome } from './run-detection.js'

const WRITE_CHUNK = 500

const bySeries = (a: { customerId: string; metric: string }, b: { customerId: string; metric: string }) =>
  a.customerId < b.customerId
    ? -1
    : a.customerId > b.customerId
      ? 1
      : a.metric < b.metric
        ? -1
        : a.metric > b.metric
          ? 1
          : 0

/**
 * Completes a run from the evaluations of its customer ranges (one for an unsharded run, one per shard): the
 * transitions go to the outbox first, through the storm guard for the whole run, then the incidents are written
 * (delivery sends an alert only once its transition is recorded, so a run that dies between the two alerts
 * nothing), then the counts go on the run record. Series are taken in customer, metric order whatever the shards.
 * Throws on a store failure; the caller records the run failed.
 */
export async function finishRun(
  deps: Pick<DetectionDeps, 'anomalies' | 'alerts'>,
  run: DetectionRun,
  evaluations: readonly RangeEvaluation[],
): Promise<Pick<DetectionOutcome, 'transitions' | 'anomaliesBySeverity'>> {
  const anomaliesBySeverity: Record<Severity, number> = { warning: 0, critical: 0 }
  const candidates: TransitionAlert[] = []
  const changed: Incident[] = []
  run.checked = 0
  run.customers = 0
  run.insufficientData = 0
  run.anomaliesFound = 0
  run.anomaliesStored = 0
  for (const e of evaluations) {
    run.checked += e.checked
    run.customers += e.customers
    run.insufficientData += e.insufficientData
    run.anomaliesFound += e.anomaliesFound
    run.anomaliesStored += e.anomaliesStored
    for (const severity of Object.keys(anomaliesBySeverity) as Severity[]) {
      anomaliesBySeverity[severity] += e.anomaliesBySeverity[severity]
    }
    candidates.push(...e.candidates)
    changed.push(...e.changed)
  }
  candidates.sort((a, b) => bySeries(a.incident, b.incident))
  changed.sort(bySeries)
  // The outbox first: if the transitions below are written, their alerts exist.
  await deps.alerts?.raiseTransitions(run, candidates)
  const written = new Set<string>()
  for (let i = 0; i < changed.length; i += WRITE_CHUNK) {
    for (const id of await deps.anomalies.saveIncidents(changed.slice(i, i + WRITE_CHUNK))) written.add(id)
  }
  // Count (and later alert on) only transitions this run actually wrote: a concurrent or earlier replay of the
  // slot that got there first owns them.
  const transitions = candidates.filter((t) => written.has(t.incident.id))
  run.incidentsOpened = transitions.filter((t) => t.transition === 'opened').length
  run.incidentsEscalated = transitions.filter((t) => t.transition === 'escalated').length
  run.incidentsResolved = transitions.filter((t) => t.transition === 'resolved').length
  run.status = 'completed'
  return { transitions, anomaliesBySeverity }
}
