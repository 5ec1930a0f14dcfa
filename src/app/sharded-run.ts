import { randomUUID } from 'node:crypto'
import type { DetectionRun } from '../domain/run.js'
import type { ShardTask } from '../domain/shard.js'
import { DAY_MS } from '../domain/time.js'
import { NotFoundError, StoreError } from '../errors.js'
import type { ShardQueue, StoredShardResult, Telemetry } from '../ports.js'
import type { AlertService } from './alerting/service.js'
import { evaluateRange, type RangeEvaluation } from './evaluate-range.js'
import { finishRun } from './finish-run.js'
import {
  beginRun,
  type DetectionDeps,
  type DetectionOutcome,
  isBackfill,
  type RunOptions,
  recordRun,
} from './run-detection.js'
import { reportFinishedRun, type SlotRun } from './run-slot.js'

export interface ShardedRunDeps extends DetectionDeps {
  alerts: Pick<AlertService, 'raiseTransitions' | 'raiseJobHealth' | 'deliver'>
  telemetry: Telemetry
  /** How many shards a run is split into (at most: fewer customers give fewer shards). */
  shards: number
  queue: ShardQueue
}

export interface ShardedRunStart {
  /** The run record: `running` once its tasks are sent, `failed` when planning or sending failed. */
  run: DetectionRun
  shards: number
  alertError: string | null
  /** Delivery of the job-health alerts this start raised (a failed start, interrupted runs). */
  delivery: ReturnType<AlertService['deliver']>
}

export interface ShardOutcome {
  /**
   * `evaluated`: this call evaluated the shard and stored its result; `duplicate`: the shard's result was already
   * stored (a redelivered or concurrent task); `skipped`: the run is no longer running (finished, or failed as
   * interrupted), so there is nothing to add.
   */
  shard: 'evaluated' | 'duplicate' | 'skipped'
  /** The whole run, when this call was the one that finished it. */
  finished: SlotRun | null
}

/** A finisher that dies keeps others out this long; a retry of its task then finishes the run. */
export const FINISH_LEASE_MS = 5 * 60_000
/** Shard results are needed only until the run is finished; kept a while for inspection. */
const RESULT_RETENTION_MS = 7 * DAY_MS
/**
 * The RangeEvaluation JSON's version. 2: incidents and alert detections carry their signals; a finisher refuses a
 * version-1 result of a worker deployed before (the run fails clearly and is retried) rather than store incidents
 * without them.
 */
const RESULT_VERSION = 2

/**
 * The coordinator of a sharded run: records the run (as an unsharded run does: slot checked, interrupted runs
 * failed), decides once what every shard must agree on (backfill or not), splits the customers into ranges and sends
 * one task per range. A failure here fails the run (ops are alerted) and is returned, not thrown: the caller decides
 * whether to retry (the Lambda does, with the same run id).
 */
export async function startShardedRun(
  deps: ShardedRunDeps,
  slot: number,
  trigger: DetectionRun['trigger'],
  options: Pick<RunOptions, 'runId'> = {},
): Promise<ShardedRunStart> {
  const { run, interrupted } = await beginRun(deps, slot, trigger, options.runId)
  try {
    const backfill = await isBackfill(deps, run)
    const ranges = await deps.usage.customerRanges(deps.shards)
    const tasks: ShardTask[] = ranges.map((range, index) => ({
      runId: run.runId,
      slot: run.slot,
      trigger,
      startedAt: run.startedAt,
      backfill,
      index,
      total: ranges.length,
      range,
    }))
    await deps.queue.send(tasks)
    return { run, shards: tasks.length, alertError: interrupted.alertError, delivery: deps.alerts.deliver() }
  } catch (err) {
    run.status = 'failed'
    run.error = `could not start the sharded run: ${err instanceof Error ? err.message : String(err)}`
    const alertError = await recordRun(deps, run, interrupted.alertError)
    deps.telemetry.runFinished(run, { warning: 0, critical: 0 })
    return { run, shards: 0, alertError, delivery: deps.alerts.deliver() }
  }
}

/**
 * A worker's part: evaluates one shard (unless its result is already stored) and stores the result; the call that
 * finds every shard's result stored finishes the run exactly as an unsharded run finishes (one storm guard, one
 * job-health verdict, one run record for the whole slot) and starts delivering its alerts. Throws when the shard
 * could not be evaluated or the finish failed: the task is to be retried (SQS redelivers it).
 */
export async function runShard(
  deps: ShardedRunDeps,
  task: ShardTask,
  options: Pick<RunOptions, 'deadline'> = {},
): Promise<ShardOutcome> {
  let shard: ShardOutcome['shard'] = 'duplicate'
  if (!(await deps.anomalies.shards.storedIndexes(task.runId)).includes(task.index)) {
    const run = await deps.anomalies.getRun(task.runId)
    if (!run) {
      throw new NotFoundError(
        `run ${task.runId} is not recorded: a shard task must come from its coordinator`,
      )
    }
    if (run.status !== 'running') return { shard: 'skipped', finished: null }
    const frame = { runId: task.runId, slot: task.slot, startedAt: task.startedAt, backfill: task.backfill }
    const evaluation = await evaluateRange(deps, frame, task.range, options.deadline)
    const won = await deps.anomalies.shards.putResult({
      runId: task.runId,
      index: task.index,
      payload: JSON.stringify({ version: RESULT_VERSION, evaluation }),
      ttl: Math.floor((deps.clock.now() + RESULT_RETENTION_MS) / 1000),
    })
    shard = won ? 'evaluated' : 'duplicate'
  }
  return { shard, finished: await finishIfComplete(deps, task) }
}

async function finishIfComplete(deps: ShardedRunDeps, task: ShardTask): Promise<SlotRun | null> {
  // Indexes first (no payloads): every worker asks, only the last one needs the results themselves.
  if ((await deps.anomalies.shards.storedIndexes(task.runId)).length < task.total) return null
  const owner = randomUUID()
  const now = deps.clock.now()
  if (!(await deps.anomalies.shards.claimFinish(task.runId, owner, now, now + FINISH_LEASE_MS))) return null
  const run = await deps.anomalies.getRun(task.runId)
  if (run?.status !== 'running') return null
  let finished: Pick<DetectionOutcome, 'transitions' | 'anomaliesBySeverity'>
  try {
    const results = await deps.anomalies.shards.results(task.runId)
    if (results.length < task.total) {
      throw new StoreError(
        `run ${task.runId}: ${task.total} shard results listed, ${results.length} readable`,
      )
    }
    finished = await finishRun(deps, run, results.map(parseResult))
  } catch (err) {
    // Let another attempt finish it: the outbox and incident writes are replay-safe.
    await deps.anomalies.shards.claimFinish(task.runId, owner, now, deps.clock.now()).catch(() => false)
    throw err
  }
  const alertError = await recordRun(deps, run, null)
  await reportFinishedRun(deps, run, finished.anomaliesBySeverity)
  return { run, ...finished, alertError, delivery: deps.alerts.deliver() }
}

function parseResult(stored: StoredShardResult): RangeEvaluation {
  const parsed = JSON.parse(stored.payload) as { version?: unknown; evaluation?: RangeEvaluation }
  if (parsed.version !== RESULT_VERSION || !parsed.evaluation) {
    throw new StoreError(
      `shard ${stored.index} of run ${stored.runId} holds a result of version ${String(parsed.version)}; this code reads version ${RESULT_VERSION}`,
    )
  }
  return parsed.evaluation
}
