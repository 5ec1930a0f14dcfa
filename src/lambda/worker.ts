import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import type { Logger } from '@aws-lambda-powertools/logger'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { parseShardTask } from '../adapters/sqs/shard-task.js'
import { toIso } from '../domain/time.js'
import { runJson } from '../http/serialize.js'
import { type ContainerCache, lambdaContainers, lambdaLogger } from './container.js'
import { DEADLINE_MARGIN_MS, runDeadline } from './handler.js'

export interface ShardWorkerDeps {
  containers: ContainerCache
  logger: Logger
  /** Default DEADLINE_MARGIN_MS. */
  marginMs?: number
}

/**
 * The SQS-triggered worker of sharded runs: each record is one shard task. A record that fails (bad body, store
 * error, out of time) is reported in `batchItemFailures`, so SQS redelivers only it (and, after the queue's
 * maxReceiveCount, moves it to the dead-letter queue); the others are done. Records run one after the other under
 * one deadline: the event source should send one or a few shards per invocation.
 */
export function createShardWorker(deps: ShardWorkerDeps) {
  const { logger } = deps
  const marginMs = deps.marginMs ?? DEADLINE_MARGIN_MS
  return async function worker(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    logger.addContext(context)
    let flush = () => {}
    try {
      const container = await deps.containers.get()
      flush = () => container.telemetry.flush()
      const { meterflow, telemetry } = container
      const deadline = runDeadline(meterflow.clock, context, marginMs)
      const processShard = async (record: SQSRecord) => {
        const message = {
          message_id: record.messageId,
          receive_count: record.attributes?.ApproximateReceiveCount,
        }
        try {
          const task = parseShardTask(record.body)
          const shard = { run_id: task.runId, slot: toIso(task.slot), index: task.index, total: task.total }
          const outcome = await meterflow.runShard(task, { deadline })
          if (outcome.shard === 'evaluated') telemetry.shardsEvaluated(1)
          logger.info(`shard ${outcome.shard}`, { ...message, shard })
          if (outcome.finished) {
            const delivery = await outcome.finished.delivery
            const summary = {
              ...message,
              run: runJson(outcome.finished.run),
              alerts: { delivered: delivery.delivered, retrying: delivery.retrying, failed: delivery.failed },
            }
            if (outcome.finished.run.status === 'failed')
              logger.error('sharded run finished: failed', summary)
            else logger.info('sharded run finished', summary)
          }
        } catch (err) {
          logger.error('shard failed; SQS will redeliver it', { ...message, error: err as Error })
          throw err
        }
      }
      return await processPartialResponse(event, processShard, new BatchProcessor(EventType.SQS), {
        context,
        processInParallel: false,
      })
    } finally {
      flush()
      logger.resetKeys()
    }
  }
}

/** `index.worker`: the deployed shard worker (config from the environment, one container per execution environment). */
export const worker = createShardWorker({ containers: lambdaContainers, logger: lambdaLogger })
