import type { Logger } from '@aws-lambda-powertools/logger'
import type { Context, ScheduledEvent } from 'aws-lambda'
import type { DeliverySummary } from '../app/alerting/deliver.js'
import type { DetectionRun } from '../domain/run.js'
import { toIso } from '../domain/time.js'
import { MeterFlowError } from '../errors.js'
import { runJson } from '../http/serialize.js'
import type { Clock } from '../ports.js'
import type { MeterFlow } from '../wiring.js'
import { type ContainerCache, lambdaContainers, lambdaLogger } from './container.js'
import { scheduledRun } from './event.js'

/**
 * Time kept back from the function's remaining time: a run stops this long before the Lambda would be killed, which
 * leaves room to record it as failed, raise the job-health alert for ops and send it.
 */
export const DEADLINE_MARGIN_MS = 20_000

/** The seed handler's body (checked, anomalies_found, timestamp = the run's start, ISO) plus the run's id and duration. */
export interface RunBody {
  checked: number
  anomalies_found: number
  timestamp: string
  run_id: string
  duration_ms: number | null
}

export type ScheduledResult =
  /** The run finished now, or earlier for the same event (a redelivery gets the stored figures). */
  | { statusCode: 200; body: RunBody }
  /** A sharded run was started (or is going on: then `shards` is the configured count, an upper bound). */
  | { statusCode: 202; body: { run_id: string; shards: number; timestamp: string } }
  /** The same event is being run by another invocation right now: nothing was done here. */
  | { statusCode: 202; body: RunBody & { status: 'running' } }

/** The run was recorded as failed (ops were alerted); thrown so that Lambda retries the event, which resumes it. */
export class RunFailedError extends MeterFlowError {
  readonly code = 'run_failed'
  readonly httpStatus = 500
  constructor(readonly run: DetectionRun) {
    super(`detection run ${run.runId} for slot ${toIso(run.slot)} failed: ${run.error ?? 'unknown error'}`)
  }
}

/** When a run in this invocation must stop: the function's remaining time less the margin. */
export function runDeadline(
  clock: Clock,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  marginMs: number,
): number {
  return clock.now() + context.getRemainingTimeInMillis() - marginMs
}

export interface ScheduledHandlerDeps {
  containers: ContainerCache
  logger: Logger
  /** Default DEADLINE_MARGIN_MS. */
  marginMs?: number
}

const body = (run: DetectionRun): RunBody => ({
  checked: run.checked,
  anomalies_found: run.anomaliesFound,
  timestamp: toIso(run.startedAt),
  run_id: run.runId,
  duration_ms: run.durationMs,
})

const deliveryLog = (d: DeliverySummary) => ({
  delivered: d.delivered,
  retrying: d.retrying,
  failed: d.failed,
  deferred: d.deferred,
})

/**
 * The EventBridge-scheduled entry point: runs the slot of `event.time` (detection, then alert delivery) under a run
 * id derived from the event id, so that the same event twice (EventBridge redelivery, Lambda's async retries) runs
 * once: a completed run returns its stored figures, a run going on in another invocation is left alone, a failed
 * (e.g. out of time) or absent one is run, and detection itself is replay-safe (anomalies keyed, incidents ignore
 * replayed slots, alert ids deterministic).
 */
export function createScheduledHandler(deps: ScheduledHandlerDeps) {
  const { logger } = deps
  const marginMs = deps.marginMs ?? DEADLINE_MARGIN_MS
  return async function handler(event: ScheduledEvent, context: Context): Promise<ScheduledResult> {
    // At the start, the remaining time is (nearly) the function's timeout: no run of this function lives longer.
    const timeoutMs = context.getRemainingTimeInMillis()
    logger.addContext(context)
    let flush = () => {}
    try {
      const { slot, runId } = scheduledRun(event)
      logger.appendKeys({ run_id: runId, slot: toIso(slot) })
      const container = await deps.containers.get()
      flush = () => container.telemetry.flush()
      const { meterflow } = container
      const existing = await meterflow.anomalies.getRun(runId)
      const sharded = meterflow.config.job.shards > 1
      if (existing?.status === 'completed') {
        logger.info('run already completed for this event: returning its figures', { run: runJson(existing) })
        return { statusCode: 200, body: body(existing) }
      }
      // A sharded run stays `running` until its workers finish it: a second coordinator would plan it again.
      if (
        existing?.status === 'running' &&
        (sharded || meterflow.clock.now() - existing.startedAt < timeoutMs)
      ) {
        logger.info('run for this event is in progress in another invocation: nothing to do', {
          run: runJson(existing),
        })
        return sharded
          ? {
              statusCode: 202,
              body: {
                run_id: runId,
                shards: meterflow.config.job.shards,
                timestamp: toIso(existing.startedAt),
              },
            }
          : { statusCode: 202, body: { ...body(existing), status: 'running' } }
      }
      const deadline = runDeadline(meterflow.clock, context, marginMs)
      return sharded
        ? await startSharded(meterflow, logger, slot, runId)
        : await runWhole(meterflow, logger, slot, runId, deadline)
    } catch (err) {
      // A failed run was logged with its summary already.
      if (!(err instanceof RunFailedError)) logger.error('scheduled run failed', { error: err as Error })
      throw err
    } finally {
      flush()
      logger.resetKeys()
    }
  }
}

async function runWhole(
  meterflow: MeterFlow,
  logger: Logger,
  slot: number,
  runId: string,
  deadline: number,
): Promise<ScheduledResult> {
  const outcome = await meterflow.runSlot(slot, 'lambda', 'refuse', { runId, deadline })
  // The function's process may be frozen or ended once this returns: the run's alerts go out now.
  const delivery = await outcome.delivery
  const summary = {
    run: runJson(outcome.run),
    alerts: deliveryLog(delivery),
    alert_error: outcome.alertError,
  }
  if (outcome.run.status === 'failed') {
    logger.error('detection run failed; the event will be retried', summary)
    throw new RunFailedError(outcome.run)
  }
  logger.info('detection run completed', summary)
  return { statusCode: 200, body: body(outcome.run) }
}

async function startSharded(
  meterflow: MeterFlow,
  logger: Logger,
  slot: number,
  runId: string,
): Promise<ScheduledResult> {
  const start = await meterflow.startShardedRun(slot, 'lambda', { runId })
  const delivery = await start.delivery
  const summary = { run: runJson(start.run), shards: start.shards, alerts: deliveryLog(delivery) }
  if (start.run.status === 'failed') {
    logger.error('sharded run could not start; the event will be retried', summary)
    throw new RunFailedError(start.run)
  }
  logger.info('sharded run started', summary)
  return {
    statusCode: 202,
    body: { run_id: runId, shards: start.shards, timestamp: toIso(start.run.startedAt) },
  }
}

/** `index.handler`: the deployed function (config from the environment, one container per execution environment). */
export const handler = createScheduledHandler({ containers: lambdaContainers, logger: lambdaLogger })
