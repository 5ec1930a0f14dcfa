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
  /** Calls per chunk, the first included, before unprocessed items fail the operation (default 8). */
  attempts: number
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^n)) (default 50). */
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
 * throttled) with backoff. Throws a StoreError when some stay unprocessed after `retry.attempts` calls: a
 * write is never dropped silently. (Throttling errors of whole calls are retried by the SDK itself.)
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  retry: RetryOptions,
  parallelism = 4,
): Promise<void> {
  await mapLimit(chunk(requests, WRITE_CHUNK), parallelism, async (batch) => {
    let pending: WriteRequest[] = batch
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= retry.attempts) {
        throw new StoreError(
          `DynamoDB left ${pending.length} of ${batch.length} writes unprocessed after ${retry.attempts} attempts (table ${table}); nothing was dropped silently, retry the operation`,
        )
      }
      if (attempt > 0) await backoff(attempt, retry)
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }))
      pending = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[]
    }
  })
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
  await mapLimit(chunk(keys, GET_CHUNK), parallelism, async (batch) => {
    let pending: Key[] = batch
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= retry.attempts) {
        throw new StoreError(
          `DynamoDB left ${pending.length} of ${batch.length} reads unprocessed after ${retry.attempts} attempts (table ${table})`,
        )
      }
      if (attempt > 0) await backoff(attempt, retry)
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
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[]
    }
  })
  return found
}
