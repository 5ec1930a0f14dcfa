import type { DetectionRun } from '../domain/run.js'
import type { AnomalyStore, Telemetry } from '../ports.js'
import type { DeliverySummary } from './alerting/deliver.js'
import type { AlertService } from './alerting/service.js'
import type { DetectionJob } from './detection-job.js'
import type { DetectionOutcome, RunOptions } from './run-detection.js'

export interface RunSlotDeps {
  job: DetectionJob
  alerts: Pick<AlertService, 'deliver'>
  anomalies: Pick<AnomalyStore, 'openIncidents'>
  telemetry: Telemetry
}

export interface SlotRun extends DetectionOutcome {
  /**
   * The delivery pass that follows the run: the alerts it raised (and any other due ones) going out. An entry
   * point that must answer at once (the API) does not wait for it; one about to exit (the CLI, later the Lambda)
   * does.
   */
  delivery: Promise<DeliverySummary>
}

/**
 * "Run a slot": detection, then alert delivery, once for every trigger (scheduler, CLI, API). `whenBusy` says what
 * to do while another run is going in this process: `wait` for it (the scheduler) or `refuse` with a conflict
 * (a person asking, who can try again).
 */
export async function runSlot(
  deps: RunSlotDeps,
  slot: number,
  trigger: DetectionRun['trigger'],
  whenBusy: 'wait' | 'refuse',
  options?: RunOptions,
): Promise<SlotRun> {
  const outcome = await (whenBusy === 'wait'
    ? deps.job.runWhenFree(slot, trigger, options)
    : deps.job.runNow(slot, trigger, options))
  await reportFinishedRun(deps, outcome.run, outcome.anomaliesBySeverity)
  // Delivery runs even after a failed run: the failure raised a job-health alert for ops.
  return { ...outcome, delivery: deps.alerts.deliver() }
}

/** Telemetry of a finished run (sharded or not): its figures, then the open-incident gauge. */
export async function reportFinishedRun(
  deps: Pick<RunSlotDeps, 'anomalies' | 'telemetry'>,
  run: DetectionRun,
  anomaliesBySeverity: DetectionOutcome['anomaliesBySeverity'],
): Promise<void> {
  deps.telemetry.runFinished(run, anomaliesBySeverity)
  try {
    deps.telemetry.openIncidents((await deps.anomalies.openIncidents()).length)
  } catch {
    // The gauge keeps its last value: a store hiccup after a recorded run must not turn it into a failure.
  }
}
