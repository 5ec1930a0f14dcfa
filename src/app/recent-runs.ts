import { type DetectionRun, isFutureSlot } from '../domain/run.js'
import type { AnomalyStore } from '../ports.js'

const RUN_PAGE = 100
const RUN_PAGES = 10

/**
 * The newest run records, newest slot first, at most RUN_PAGES pages of RUN_PAGE: what the job consults about its
 * own history (progress, runs a killed process left running) lies within the last few, so the scan stays bounded.
 */
export async function* recentRuns(store: Pick<AnomalyStore, 'listRuns'>): AsyncGenerator<DetectionRun> {
  let cursor: string | undefined
  for (let page = 0; page < RUN_PAGES; page++) {
    const runs = await store.listRuns({ limit: RUN_PAGE, ...(cursor === undefined ? {} : { cursor }) })
    yield* runs.items
    if (runs.nextCursor === null) return
    cursor = runs.nextCursor
  }
}

/**
 * The slot of the newest completed run that is not in the future (null: none). Records of future slots (accepted
 * before slots were checked) are skipped: they would make every real run a backfill. The scan is bounded; past it
 * there is no known progress, which makes a run forward (never silenced).
 */
export async function latestCompletedSlot(
  store: Pick<AnomalyStore, 'listRuns'>,
  nowMs: number,
  exceptRunId?: string,
): Promise<number | null> {
  for await (const run of recentRuns(store)) {
    if (run.status === 'completed' && run.runId !== exceptRunId && !isFutureSlot(run.slot, nowMs))
      return run.slot
  }
  return null
}
