import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { ShardTask } from '../../domain/shard.js'
import { MeterFlowError } from '../../errors.js'
import type { ShardQueue } from '../../ports.js'
import { createSqsClient, type SqsClientOptions } from './client.js'
import { serializeShardTask } from './shard-task.js'

/** Entries per SendMessageBatch call: SQS's limit. */
export const SQS_BATCH_ENTRIES = 10

export interface SqsShardQueueOptions extends SqsClientOptions {
  /** A standard queue's URL (FIFO queues need group ids, which shard tasks do not carry). */
  queueUrl: string
  /** SendMessageBatch calls in flight at once (default 4). */
  concurrency?: number
  /** How many times entries SQS reports as failed (not the sender's fault) are sent again (default 4). */
  entryRetries?: number
  /** Ceiling of the first re-send's wait; it doubles per round up to 5 s, and the wait is 50-100% of it. */
  retryDelayMs?: number
}

/** A shard task that was not sent, and why. */
export interface UnsentShard {
  runId: string
  index: number
  /** The SQS error code of the entry (e.g. InternalError), the SDK error's name, or NotSent. */
  code: string
  reason: string
  /** Whether SQS blamed the request (such an entry is never re-sent: it cannot succeed). */
  senderFault: boolean
  /** Calls that carried it. */
  attempts: number
}

/** Some shard tasks could not be sent; `unsent` names each (tasks not named were sent, possibly more than once). */
export class ShardQueueError extends MeterFlowError {
  readonly code = 'shard_queue_unavailable'
  readonly httpStatus = 503

  constructor(
    message: string,
    readonly unsent: readonly UnsentShard[],
    options?: ErrorOptions,
  ) {
    super(
      message,
      unsent.map((u) => ({ index: u.index, field: 'shard', reason: `${u.code}: ${u.reason}` })),
      options,
    )
  }
}

interface Entry {
  /** Unique among the entries of one send (its position), as SQS requires within a call. */
  id: string
  task: ShardTask
  body: string
  attempts: number
}

interface RoundOutcome {
  retry: { entry: Entry; code: string; reason: string }[]
  failed: UnsentShard[]
  /** A whole call failed after the SDK's own retries: nothing more is sent. */
  callError: unknown
}

const MAX_RETRY_DELAY_MS = 5_000
const MESSAGE_SHARDS = 5
const MAX_REASON_LENGTH = 300

/** The ShardQueue on SQS: one message per task, 10 per SendMessageBatch call, a few calls in parallel. */
export class SqsShardQueue implements ShardQueue {
  private readonly client: SQSClient
  private readonly queueUrl: string
  private readonly concurrency: number
  private readonly entryRetries: number
  private readonly retryDelayMs: number

  constructor(options: SqsShardQueueOptions) {
    if (!URL.canParse(options.queueUrl))
      throw new RangeError(`SQS queue URL is not a URL: ${options.queueUrl}`)
    if (options.queueUrl.endsWith('.fifo'))
      throw new RangeError(
        `SQS queue ${options.queueUrl} is a FIFO queue; shard tasks go to a standard queue`,
      )
    this.queueUrl = options.queueUrl
    this.concurrency = bounded('concurrency', options.concurrency ?? 4, 1, 64)
    this.entryRetries = bounded('entryRetries', options.entryRetries ?? 4, 0, 20)
    this.retryDelayMs = bounded('retryDelayMs', options.retryDelayMs ?? 200, 0, MAX_RETRY_DELAY_MS)
    this.client = createSqsClient(options)
  }

  /** Sends every task or throws a ShardQueueError naming those not sent; a task that is invalid sends nothing. */
  async send(tasks: readonly ShardTask[]): Promise<void> {
    const entries = tasks.map((task, position) => ({
      id: `t${position}`,
      task,
      body: serializeShardTask(task),
      attempts: 0,
    }))
    const unsent: UnsentShard[] = []
    let callError: unknown
    let pending: RoundOutcome['retry'] = entries.map((entry) => ({ entry, code: '', reason: '' }))
    for (let round = 0; pending.length > 0; round++) {
      if (round > this.entryRetries || callError !== undefined) {
        unsent.push(...pending.map((p) => unsentShard(p.entry, p.code, p.reason, false)))
        break
      }
      if (round > 0) await sleep(this.retryDelay(round))
      const outcome = await this.sendRound(pending.map((p) => p.entry))
      unsent.push(...outcome.failed)
      callError ??= outcome.callError
      pending = outcome.retry
    }
    if (unsent.length > 0) throw this.failure(unsent, entries.length, callError)
  }

  close(): void {
    this.client.destroy()
  }

  private async sendRound(entries: readonly Entry[]): Promise<RoundOutcome> {
    const outcome: RoundOutcome = { retry: [], failed: [], callError: undefined }
    const batches: Entry[][] = []
    for (let i = 0; i < entries.length; i += SQS_BATCH_ENTRIES)
      batches.push(entries.slice(i, i + SQS_BATCH_ENTRIES))
    await forEachBounded(batches, this.concurrency, async (batch) => {
      if (outcome.callError !== undefined) {
        const reason = 'not sent: another call to the queue failed'
        outcome.failed.push(...batch.map((e) => unsentShard(e, 'NotSent', reason, false)))
        return
      }
      for (const entry of batch) entry.attempts++
      try {
        const reply = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((e) => ({ Id: e.id, MessageBody: e.body })),
          }),
        )
        const sent = new Set((reply.Successful ?? []).map((s) => s.Id))
        const failures = new Map((reply.Failed ?? []).map((f) => [f.Id, f]))
        for (const entry of batch) {
          if (sent.has(entry.id)) continue
          const failure = failures.get(entry.id)
          const code = failure?.Code ?? 'MissingFromReply'
          const reason = failure
            ? (failure.Message ?? 'no message')
            : 'SQS reported neither success nor failure'
          if (failure?.SenderFault === true) outcome.failed.push(unsentShard(entry, code, reason, true))
          else outcome.retry.push({ entry, code, reason })
        }
      } catch (err) {
        outcome.callError ??= err
        const code = err instanceof Error ? err.name : 'Error'
        const reason = err instanceof Error ? err.message : String(err)
        outcome.failed.push(...batch.map((e) => unsentShard(e, code, reason, false)))
      }
    })
    return outcome
  }

  /** Equal jitter: 50-100% of a ceiling that doubles per round, so retries never bunch up at zero delay. */
  private retryDelay(round: number): number {
    const ceiling = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (round - 1))
    return ceiling / 2 + (Math.random() * ceiling) / 2
  }

  private failure(unsent: UnsentShard[], total: number, cause: unknown): ShardQueueError {
    unsent.sort((a, b) => a.runId.localeCompare(b.runId) || a.index - b.index)
    const named = unsent
      .slice(0, MESSAGE_SHARDS)
      .map((u) => `shard ${u.index} of run ${u.runId} (${u.code}: ${u.reason}; ${u.attempts} attempts)`)
    const more = unsent.length > MESSAGE_SHARDS ? `, and ${unsent.length - MESSAGE_SHARDS} more` : ''
    const message = `${unsent.length} of ${total} shard tasks were not sent to SQS queue ${this.queueUrl}: ${named.join(', ')}${more}`
    return new ShardQueueError(message, unsent, cause === undefined ? undefined : { cause })
  }
}

function unsentShard(entry: Entry, code: string, reason: string, senderFault: boolean): UnsentShard {
  // Both come from the server: bounded, so an odd reply cannot flood the logs.
  return {
    runId: entry.task.runId,
    index: entry.task.index,
    code: code.slice(0, 100),
    reason: reason.slice(0, MAX_REASON_LENGTH),
    senderFault,
    attempts: entry.attempts,
  }
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`SqsShardQueue ${name} must be an integer in ${min}..${max}, not ${value}`)
  return value
}

/** Runs `fn` over `items` with at most `limit` at once; `fn` must not throw. */
async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
