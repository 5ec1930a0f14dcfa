import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { mapLimit } from '../../concurrency.js'
import { StoreError } from '../../errors.js'
import type { Item } from './items.js'
import type { Key } from './keys.js'

export { mapLimit }

/** BatchWriteItem takes at most 25 requests, BatchGetItem 100 keys. */
export const WRITE_CHUNK = 25
export const GET_CHUNK = 100

export interface RetryOptions {
  /**
   * Calls in a row that process none of a chunk's pending items (the first call included) before the operation
   * fails (default 8). A call that processes some of them is progress and starts the count again.
   */
  attempts: number
  /** Backoff base: after n such calls in a row, wait a random time in [0, min(maxDelayMs, baseDelayMs * 2^n)) (default 50). */
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 }

export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } }

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Full-jitter exponential backoff. */
function backoff(attempt: number, retry: RetryOptions): Promise<void> {
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt)
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap))
}

/**
 * Writes every request in chunks of 25, re-sending UnprocessedItems (DynamoDB returns them when a partition is
 * throttled) with backoff. Throws a StoreError when some stay unprocessed (see RetryOptions.attempts): a write is
 * never dropped silently. (Throttling errors of whole calls are retried by the SDK itself, see client.ts.)
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  retry: RetryOptions,
  parallelism = 4,
): Promise<void> {
  await mapLimit(chunk(requests, WRITE_CHUNK), parallelism, (batch) =>
    untilProcessed(batch, retry, { what: 'writes', table }, async (pending) => {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }))
      return (out.UnprocessedItems?.[table] ?? []) as WriteRequest[]
    }),
  )
}

/**
 * Calls `send` with what is still pending (it returns what is left) until nothing is. Under throttling DynamoDB
 * may process only a few items of a batch per call: such a call is progress and resets the count, so only
 * `retry.attempts` calls in a row that process nothing give up. (Counting every call gave up on a 25-item batch
 * throttled down to a few items per call, although every call made progress.)
 */
async function untilProcessed<T>(
  batch: readonly T[],
  retry: RetryOptions,
  context: { what: 'writes' | 'reads'; table: string },
  send: (pending: T[]) => Promise<T[]>,
): Promise<void> {
  let pending = [...batch]
  for (let stalled = 0, calls = 0; pending.length > 0; calls++) {
    if (stalled >= retry.attempts) {
      throw new StoreError(
        `DynamoDB left ${pending.length} of ${batch.length} ${context.what} unprocessed after ${retry.attempts} attempts in a row that processed none of them (table ${context.table}); nothing was dropped silently, retry the operation`,
      )
    }
    if (calls > 0) await backoff(stalled, retry)
    const left = await send(pending)
    stalled = left.length < pending.length ? 0 : stalled + 1
    pending = left
  }
}

/**
 * Reads the items at `keys` (strongly consistent), re-asking for UnprocessedKeys with backoff; `projection`
 * names the attributes wanted. Returns the items found, in no particular order.
 */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
  projection: readonly string[],
  retry: RetryOptions,
  parallelism = 4,
): Promise<Item[]> {
  const names = Object.fromEntries(projection.map((name, i) => [`#p${i}`, name]))
  const found: Item[] = []
  await mapLimit(chunk(keys, GET_CHUNK), parallelism, (batch) =>
    untilProcessed(batch, retry, { what: 'reads', table }, async (pending) => {
      const out = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: true,
              ProjectionExpression: Object.keys(names).join(', '),
              ExpressionAttributeNames: names,
            },
          },
        }),
      )
      found.push(...((out.Responses?.[table] ?? []) as Item[]))
      return (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[]
    }),
  )
  return found
}
