import type { DetectionRun } from '../domain/run.js'
import { HOUR_MS } from '../domain/time.js'
import type { AnomalyStore } from '../ports.js'
import type { AlertService } from './alerting/service.js'
import { recentRuns } from './recent-runs.js'

/**
 * A run still `running` this long after it started is dead: longer than any run takes (Lambda stops one after
 * 5 minutes), so no live process can still finish it.
 */
export const INTERRUPTED_AFTER_MS = HOUR_MS

export const INTERRUPTED_ERROR = 'interrupted: the process stopped during the run (no finish was recorded)'

export interface InterruptedRunDeps {
  anomalies: Pick<AnomalyStore, 'listRuns' | 'saveRun'>
  alerts?: Pick<AlertService, 'raiseJobHealth'>
}

export interface InterruptedRuns {
  /** The records now failed as interrupted. */
  runs: DetectionRun[]
  /** Raising a job-health alert for one of them failed (the records are written). */
  alertError: string | null
}

/**
 * Records every run still `running` that started before `startedBefore` as failed (a process killed mid-run never
 * writes its finish; without this it would show as running forever) and raises the job-health alert a failed run
 * raises. The finish stays unknown (finishedAt and durationMs null). Writing the same failure twice (two processes
 * recovering at once) is harmless: the record and the alert id are the same.
 */
export async function failInterruptedRuns(
  deps: InterruptedRunDeps,
  startedBefore: number,
): Promise<InterruptedRuns> {
  const stale: DetectionRun[] = []
  for await (const run of recentRuns(deps.anomalies)) {
    if (run.status === 'running' && run.startedAt < startedBefore) stale.push(run)
  }
  const failed: DetectionRun[] = []
  const alertErrors: string[] = []
  for (const run of stale) {
    const interrupted: DetectionRun = { ...run, status: 'failed', error: INTERRUPTED_ERROR }
    await deps.anomalies.saveRun(interrupted)
    failed.push(interrupted)
    try {
      await deps.alerts?.raiseJobHealth(interrupted)
    } catch (err) {
      alertErrors.push(`run ${run.runId}: ${(err as Error).message}`)
    }
  }
  return {
    runs: failed,
    alertError:
      alertErrors.length === 0
        ? null
        : `could not raise the job-health alert of an interrupted run: ${alertErrors.join('; ')}`,
  }
}
