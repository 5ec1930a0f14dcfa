import { randomUUID } from 'node:crypto'
import type { DetectorConfig } from '../domain/detector.js'
import type { FeedbackLabel, IncidentOptions } from '../domain/incident.js'
import { type DetectionRun, slotProblem } from '../domain/run.js'
import { ALL_CUSTOMERS } from '../domain/shard.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import { floorToHour, toIso } from '../domain/time.js'
import type { Severity, VolumeOptions } from '../domain/volume.js'
import { ValidationError } from '../errors.js'
import type { AnomalyStore, Clock, UsageStore, VectorIndex } from '../ports.js'
import type { TransitionAlert } from './alerting/raise.js'
import type { AlertService } from './alerting/service.js'
import { evaluateRange } from './evaluate-range.js'
import { finishRun } from './finish-run.js'
import { failInterruptedRuns, INTERRUPTED_AFTER_MS, type InterruptedRuns } from './interrupted-runs.js'
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
  /** The shape signal's settings; null or absent: shape is off (config `detection.shape.enabled`). */
  shape?: ShapeConfig | null
  /** Where shape gets its profiles (config `shapeIndex.kind`); absent: the embedded index over `usage`. */
  shapeIndex?: VectorIndex
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

export interface RunOptions {
  /** The run's id (a Lambda derives it from the event, so that a redelivery names the same run); default random. */
  runId?: string
  /** Epoch ms by which the run must stop (the Lambda's remaining time less a margin); none: no limit. */
  deadline?: number
}

/**
 * One detection run for one slot (floored to the hour; its window is [slot - 24 h, slot)): every active
 * customer x metric in a fixed number of queries, anomalies stored, incidents opened/updated/resolved, the run
 * recorded. Safe to repeat for the same slot: records are keyed by slot and incidents ignore replayed slots.
 * A sharded run is the same three steps with the evaluation split by customer range (app/sharded-run.ts).
 */
export async function runDetection(
  deps: DetectionDeps,
  requestedSlot: number,
  trigger: DetectionRun['trigger'],
  options: RunOptions = {},
): Promise<DetectionOutcome> {
  const { run, interrupted } = await beginRun(deps, requestedSlot, trigger, options.runId)
  let outcome: Pick<DetectionOutcome, 'transitions' | 'anomaliesBySeverity'> = {
    transitions: [],
    anomaliesBySeverity: { warning: 0, critical: 0 },
  }
  try {
    const backfill = await isBackfill(deps, run)
    const evaluation = await evaluateRange(
      deps,
      { runId: run.runId, slot: run.slot, startedAt: run.startedAt, backfill },
      ALL_CUSTOMERS,
      options.deadline,
      (checked) => {
        run.checked = checked
      },
    )
    outcome = await finishRun(deps, run, [evaluation])
  } catch (err) {
    run.status = 'failed'
    run.error = err instanceof Error ? err.message : String(err)
  }
  const alertError = await recordRun(deps, run, interrupted.alertError)
  return { run, ...outcome, alertError }
}

/**
 * Starts a run: refuses a bad slot before anything is recorded (a future slot would become "the latest run" and
 * freeze incidents), fails the runs a killed process left running, and records this one as running.
 */
export async function beginRun(
  deps: DetectionDeps,
  requestedSlot: number,
  trigger: DetectionRun['trigger'],
  runId: string = randomUUID(),
): Promise<{ run: DetectionRun; interrupted: InterruptedRuns }> {
  const slot = floorToHour(requestedSlot)
  const startedAt = deps.clock.now()
  const problem = slotProblem(requestedSlot, startedAt)
  if (problem) {
    throw new ValidationError(`invalid slot ${describeSlot(requestedSlot)}: ${problem}`, [
      { field: 'slot', reason: problem },
    ])
  }
  // Runs a killed process left `running` (none can still be going after this long) are recorded as failed.
  const interrupted = await failInterruptedRuns(deps, startedAt - INTERRUPTED_AFTER_MS)
  const run: DetectionRun = {
    runId,
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
  return { run, interrupted }
}

/**
 * Incidents only move forward in time: a run for a slot older than the latest completed one (a backfill, a late
 * retry) stores its anomalies but neither opens nor resolves anything, so it cannot re-alert.
 */
export async function isBackfill(
  deps: Pick<DetectionDeps, 'anomalies'>,
  run: DetectionRun,
): Promise<boolean> {
  const latest = await latestCompletedSlot(deps.anomalies, run.startedAt, run.runId)
  return latest !== null && run.slot < latest
}

/** Records a run's end (completed or failed) and raises its job-health alert; returns what failed in raising it. */
export async function recordRun(
  deps: Pick<DetectionDeps, 'anomalies' | 'alerts' | 'clock'>,
  run: DetectionRun,
  earlierAlertError: string | null,
): Promise<string | null> {
  run.finishedAt = deps.clock.now()
  run.durationMs = run.finishedAt - run.startedAt
  await deps.anomalies.saveRun(run)
  let alertError = earlierAlertError
  try {
    await deps.alerts?.raiseJobHealth(run)
  } catch (err) {
    alertError = `${alertError ? `${alertError}; ` : ''}could not raise the job-health alert: ${(err as Error).message}`
  }
  return alertError
}

function describeSlot(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? toIso(ms) : String(ms)
}
