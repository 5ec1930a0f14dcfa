import { randomUUID } from 'node:crypto'
import { type AnomalyRecord, retentionTtl } from '../domain/anomaly.js'
import type { CustomerProfile } from '../domain/customer.js'
import { type Detection, type DetectorConfig, detect } from '../domain/detector.js'
import {
  applyVerdict,
  type FeedbackLabel,
  feedbackExclusion,
  type Incident,
  type IncidentOptions,
  type TimeRange,
} from '../domain/incident.js'
import { type DetectionRun, isFutureSlot, slotProblem } from '../domain/run.js'
import { DAY_MS, floorToHour, HOUR_MS, toIso } from '../domain/time.js'
import type { Severity, VolumeOptions } from '../domain/volume.js'
import { ValidationError } from '../errors.js'
import type { AnomalyStore, Clock, SeriesWindows, UsageStore } from '../ports.js'
import type { TransitionAlert } from './alerting/raise.js'
import type { AlertService } from './alerting/service.js'
import { failInterruptedRuns, INTERRUPTED_AFTER_MS } from './interrupted-runs.js'
import type { MetricCatalog } from './metric-catalog.js'
import { latestCompletedSlot } from './recent-runs.js'

export interface DetectionDeps {
  usage: UsageStore
  anomalies: AnomalyStore
  metrics: MetricCatalog
  clock: Clock
  volume: VolumeOptions & { baselineDays: number }
  incidents: IncidentOptions
  /** The detector for a metric (config: a default plus per-metric choices); a customer's entry can override it. */
  detectorFor(metric: string): DetectorConfig
  /** Labels whose incidents leave future baselines (default: planned only). */
  excludedLabels?: readonly FeedbackLabel[]
  /** Where transitions and job-health problems are raised (absent: no alerting, e.g. the eval). */
  alerts?: Pick<AlertService, 'raiseTransitions' | 'raiseJobHealth'>
}

export interface DetectionOutcome {
  run: DetectionRun
  /** Incidents whose state this run changed, with the transition that alerting acts on. */
  transitions: TransitionAlert[]
  /** Raising the job-health alert for this run (or a run it found interrupted) failed; the runs are recorded. */
  alertError: string | null
  /** run.anomaliesFound by severity (the run record keeps only the total). */
  anomaliesBySeverity: Record<Severity, number>
}

const WRITE_CHUNK = 500
const key = (customerId: string, metric: string) => `${customerId}\u0000${metric}`

/**
 * One detection run for one slot (floored to the hour; its window is [slot - 24 h, slot)): every active
 * customer x metric in a fixed number of queries, anomalies stored, incidents opened/updated/resolved, the run
 * recorded. Safe to repeat for the same slot: records are keyed by slot and incidents ignore replayed slots.
 */
export async function runDetection(
  deps: DetectionDeps,
  requestedSlot: number,
  trigger: DetectionRun['trigger'],
): Promise<DetectionOutcome> {
  const slot = floorToHour(requestedSlot)
  const startedAt = deps.clock.now()
  // Refused before anything is recorded: a future slot would become "the latest run" and freeze incidents.
  const problem = slotProblem(requestedSlot, startedAt)
  if (problem) {
    throw new ValidationError(`invalid slot ${describeSlot(requestedSlot)}: ${problem}`, [
      { field: 'slot', reason: problem },
    ])
  }
  // Runs a killed process left `running` (none can still be going after this long) are recorded as failed.
  const interrupted = await failInterruptedRuns(deps, startedAt - INTERRUPTED_AFTER_MS)
  const run: DetectionRun = {
    runId: randomUUID(),
    slot,
    status: 'running',
    startedAt,
    finishedAt: null,
    durationMs: null,
    checked: 0,
    customers: 0,
    anomaliesFound: 0,
    anomaliesStored: 0,
    insufficientData: 0,
    incidentsOpened: 0,
    incidentsEscalated: 0,
    incidentsResolved: 0,
    trigger,
    error: null,
  }
  await deps.anomalies.saveRun(run)
  // Transitions this run computed; only those it also wrote are returned (and counted).
  const candidates: DetectionOutcome['transitions'] = []
  let transitions: DetectionOutcome['transitions'] = []
  const anomaliesBySeverity: Record<Severity, number> = { warning: 0, critical: 0 }
  try {
    const registry = await deps.metrics.refresh()
    // Incidents only move forward in time: a run for a slot older than the latest completed one (a backfill, a
    // late retry) stores its anomalies but neither opens nor resolves anything, so it cannot re-alert.
    const latest = await latestCompletedSlot(deps.anomalies, startedAt, run.runId)
    const backfill = latest !== null && slot < latest
    const profiles = new Map((await deps.anomalies.listCustomers()).map((p) => [p.customerId, p]))
    // Open incidents not yet met in this run's series; what is left at the end had no usage in the whole period.
    // An incident last evaluated at a future slot (by a run accepted before slots were checked) counts as not yet
    // evaluated by this run; otherwise it would never move again (the stores accept the overwrite).
    const unseen = new Map(
      (await deps.anomalies.openIncidents()).map((i) => [
        key(i.customerId, i.metric),
        isFutureSlot(i.lastEvaluatedSlot, startedAt) ? { ...i, lastEvaluatedSlot: slot - HOUR_MS } : i,
      ]),
    )
    const open = new Map(unseen)
    // Periods people labelled (planned activity; false positives too if configured) are not baseline samples.
    const baselineStart = slot - (deps.volume.baselineDays + 1) * DAY_MS
    const excluded = new Map<string, TimeRange[]>()
    const excludedLabels = deps.excludedLabels ?? ['planned']
    for (const incident of await deps.anomalies.labelledIncidents(baselineStart)) {
      if (!incident.feedback || !excludedLabels.includes(incident.feedback.label)) continue
      const k = key(incident.customerId, incident.metric)
      excluded.set(k, [...(excluded.get(k) ?? []), feedbackExclusion(incident)])
    }
    const records: AnomalyRecord[] = []
    const changed: Incident[] = []
    const customers = new Set<string>()
    const ttl = retentionTtl(startedAt)

    // Persistence (N of M runs): how many of the previous M - 1 slots stored an anomaly for the series. Asked only
    // for an anomalous series without an open incident, so a run makes a handful of these lookups.
    const anomalousBefore = async (s: SeriesWindows, window: number): Promise<number> => {
      if (window <= 1) return 0
      const page = await deps.anomalies.queryAnomalies({
        customerId: s.customerId,
        metric: s.metric,
        since: slot - (window - 1) * HOUR_MS,
        until: slot,
        limit: window,
      })
      return page.items.length
    }

    /** Applies one series' verdict: incident step, alert candidate, anomaly record. */
    const settle = (s: SeriesWindows, detection: Detection, current: Incident | null, persisted: boolean) => {
      const { verdict } = detection
      const step =
        backfill || !persisted
          ? { incident: current, transition: null }
          : applyVerdict(s, current, verdict, slot, deps.incidents)
      if (step.incident && step.incident !== current) changed.push(step.incident)
      if (step.incident && step.transition && step.transition !== 'updated' && verdict.status === 'ok') {
        candidates.push({
          incident: step.incident,
          transition: step.transition,
          detection: {
            slot,
            currentValue: verdict.currentValue,
            baselineMean: verdict.baseline.mean,
            baselineStddev: verdict.baseline.stddev,
            zScore: verdict.zScore,
            windowStart: detection.windowStart,
            windowEnd: detection.windowEnd,
          },
        })
      }
      if (verdict.isAnomaly && verdict.severity && verdict.direction && verdict.zScore !== null) {
        records.push({
          customerId: s.customerId,
          metric: s.metric,
          detectedAt: slot,
          currentValue: verdict.currentValue,
          baselineMean: verdict.baseline.mean,
          baselineStddev: verdict.baseline.stddev,
          zScore: verdict.zScore,
          severity: verdict.severity,
          direction: verdict.direction,
          windowStart: detection.windowStart,
          windowEnd: detection.windowEnd,
          samples: verdict.baseline.samples,
          incidentId: step.incident?.id ?? null,
          runId: run.runId,
          ttl,
        })
      }
    }

    // Once per metric, not per series: this loop runs for every customer x metric.
    const detectors = new Map<string, DetectorConfig>()
    const detectorOf = (metric: string): DetectorConfig => {
      let detector = detectors.get(metric)
      if (!detector) {
        detector = deps.detectorFor(metric)
        detectors.set(metric, detector)
      }
      return detector
    }

    /** Judges one series; returns a promise only when persistence needs the stored history (rare). */
    const evaluate = (s: SeriesWindows): Promise<void> | undefined => {
      const profile = profiles.get(s.customerId)
      if (!isChecked(profile, s)) return undefined
      customers.add(s.customerId)
      run.checked++
      const base = detectorOf(s.metric)
      const detector = profile?.detector ? { ...base, ...profile.detector } : base
      const ranges = excluded.get(key(s.customerId, s.metric))
      const history = ranges ? { ...s, excluded: ranges } : s
      const detection = detect(history, detector, optionsFor(deps.volume, profile))
      if (detection.verdict.status === 'insufficient_data') run.insufficientData++
      const current = open.get(key(s.customerId, s.metric)) ?? null
      if (current !== null || !detection.verdict.isAnomaly || backfill || detector.persistRuns <= 1) {
        settle(s, detection, current, true)
        return undefined
      }
      // A window shorter than the runs asked for could never be satisfied: it is at least persistRuns long.
      return anomalousBefore(s, Math.max(detector.persistWindow, detector.persistRuns)).then((before) =>
        settle(s, detection, current, before + 1 >= detector.persistRuns),
      )
    }

    for await (const chunk of deps.usage.seriesWindows(slot, deps.volume.baselineDays, registry.list())) {
      for (const s of chunk) {
        unseen.delete(key(s.customerId, s.metric))
        const pending = evaluate(s)
        if (pending) await pending
      }
    }
    // A series with an open incident but no usage left in the whole period is zero against zero: clean, so the
    // incident can resolve instead of staying open forever.
    for (const incident of unseen.values()) {
      if (!registry.has(incident.metric)) continue
      const { customerId, metric } = incident
      const zeros = new Array<number>(deps.volume.baselineDays + 1).fill(0)
      const firstHourMs = slot - (deps.volume.baselineDays + 1) * DAY_MS
      await evaluate({ customerId, metric, slot, firstHourMs, daily: zeros, hourly: zeros })
    }
    run.customers = customers.size
    run.anomaliesFound = records.length
    for (const r of records) anomaliesBySeverity[r.severity]++
    for (let i = 0; i < records.length; i += WRITE_CHUNK) {
      run.anomaliesStored += await deps.anomalies.putAnomalies(records.slice(i, i + WRITE_CHUNK))
    }
    // The outbox first: if the transitions below are written, their alerts exist (delivery sends an alert only
    // once its transition is recorded, so alerts of a run that dies before the incident writes never go out).
    await deps.alerts?.raiseTransitions(run, candidates)
    const written = new Set<string>()
    for (let i = 0; i < changed.length; i += WRITE_CHUNK) {
      for (const id of await deps.anomalies.saveIncidents(changed.slice(i, i + WRITE_CHUNK))) written.add(id)
    }
    // Count (and later alert on) only transitions this run actually wrote: a concurrent or earlier replay of the
    // slot that got there first owns them.
    transitions = candidates.filter((t) => written.has(t.incident.id))
    run.incidentsOpened = transitions.filter((t) => t.transition === 'opened').length
    run.incidentsEscalated = transitions.filter((t) => t.transition === 'escalated').length
    run.incidentsResolved = transitions.filter((t) => t.transition === 'resolved').length
    run.status = 'completed'
  } catch (err) {
    run.status = 'failed'
    run.error = err instanceof Error ? err.message : String(err)
  }
  run.finishedAt = deps.clock.now()
  run.durationMs = run.finishedAt - startedAt
  await deps.anomalies.saveRun(run)
  let alertError = interrupted.alertError
  try {
    await deps.alerts?.raiseJobHealth(run)
  } catch (err) {
    alertError = `${alertError ? `${alertError}; ` : ''}could not raise the job-health alert: ${(err as Error).message}`
  }
  return { run, transitions, alertError, anomaliesBySeverity }
}

function describeSlot(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? toIso(ms) : String(ms)
}

function isChecked(profile: CustomerProfile | undefined, series: SeriesWindows): boolean {
  if (!profile) return true
  if (profile.status === 'disabled') return false
  return profile.metrics === null || profile.metrics.includes(series.metric)
}

function optionsFor(defaults: VolumeOptions, profile: CustomerProfile | undefined): VolumeOptions {
  const threshold = profile?.threshold ?? defaults.threshold
  const critical = profile?.criticalThreshold ?? defaults.criticalThreshold
  return { ...defaults, threshold, criticalThreshold: Math.max(critical, threshold) }
}
