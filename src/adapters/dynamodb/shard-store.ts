import { randomUUID } from 'node:crypto'
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { StoreError } from '../../errors.js'
import type { ShardStore, StoredShardResult } from '../../ports.js'
import { checkFinishClaim, checkRunId, checkShardResult } from '../store-args/shard.js'
import { batchWriteAll, type RetryOptions, type WriteRequest } from './batch.js'
import { errorName } from './client.js'
import type { Item } from './items.js'
import {
  finishClaimKey,
  MAX_SHARD_PARTS,
  PK,
  runPk,
  SHARD_SK_PREFIX,
  SK,
  shardHeaderKey,
  shardIndexOfHeaderSk,
  shardPartKey,
  shardPartSk,
  TTL,
} from './keys.js'
import { getItem, queryAll, type TableContext } from './query.js'

/** What the shard store shares with the anomaly store that owns it. */
export interface ShardStoreContext extends TableContext {
  retry: RetryOptions
  /** The owner's wrapper: refuses when closed, turns SDK failures into StoreErrors naming `what` and the table. */
  run<T>(what: string, operation: () => Promise<T>): Promise<T>
}

/**
 * Payload bytes per part item. DynamoDB items are limited to 400 KB (names and values); the rest of a part (keys,
 * ttl) is well under 2 KB. 25 parts (one BatchWriteItem) stay under its 16 MB request limit.
 */
export const SHARD_PART_BYTES = 300 * 1024
/** A claim that expired this long ago is deleted by DynamoDB's TTL: expired and absent mean the same. */
const CLAIM_KEPT_S = 86_400

/**
 * Shard results and finish claims in the run's partition `RUN#{runId}` (see keys.ts). A result of any size is
 * written as parts under the writer's own nonce, then published by a conditional put of its header: of two
 * writers of the same shard (a redelivered task running alongside the first) exactly one header wins, and a reader
 * assembles only the parts the winning header names, so it never sees a mix of both payloads. Headers and parts
 * have sort-key prefixes of their own: listing the stored shards reads headers only, never a payload. (dynalite has no
 * TransactWriteItems, and one transaction could not hold a large payload anyway.)
 */
export class DynamoDbShardStore implements ShardStore {
  constructor(private readonly ctx: ShardStoreContext) {}

  async putResult(result: StoredShardResult): Promise<boolean> {
    checkShardResult(result)
    const bytes = Buffer.from(result.payload, 'utf8')
    const count = Math.ceil(bytes.length / SHARD_PART_BYTES)
    if (count > MAX_SHARD_PARTS) {
      const reason = `is ${bytes.length} bytes; at most ${MAX_SHARD_PARTS * SHARD_PART_BYTES} fit`
      throw new StoreError(
        `shard result ${result.index} of run ${result.runId} is too large: payload ${reason}`,
      )
    }
    const nonce = randomUUID()
    const parts: WriteRequest[] = Array.from({ length: count }, (_, part) => ({
      PutRequest: {
        Item: {
          ...shardPartKey(result.runId, result.index, nonce, part),
          data: bytes.subarray(part * SHARD_PART_BYTES, (part + 1) * SHARD_PART_BYTES),
          [TTL]: result.ttl,
        },
      },
    }))
    const header = shardHeaderKey(result.runId, result.index)
    return this.ctx.run('store a shard result', async () => {
      // Parts first: a header (read with ConsistentRead) only ever names parts that are all stored.
      await batchWriteAll(this.ctx.doc, this.ctx.table, parts, this.ctx.retry)
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: { ...header, nonce, parts: count, bytes: bytes.length, [TTL]: result.ttl },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        )
        return true
      } catch (err) {
        if (errorName(err) !== 'ConditionalCheckFailedException') throw err
      }
      // The SDK retries a put whose reply was lost: the header found may be this call's own.
      const stored = await getItem(this.ctx, header)
      if (stored?.nonce === nonce) return true
      // Another writer's result stands; this call's parts are garbage (TTL removes them if this fails).
      const orphans: WriteRequest[] = parts.map((_, part) => ({
        DeleteRequest: { Key: shardPartKey(result.runId, result.index, nonce, part) },
      }))
      await batchWriteAll(this.ctx.doc, this.ctx.table, orphans, this.ctx.retry).catch(() => undefined)
      return false
    })
  }

  async storedIndexes(runId: string): Promise<number[]> {
    checkRunId(runId)
    const headers = await this.ctx.run('list stored shards', () =>
      queryAll(this.ctx.doc, { ...this.headersQuery(runId), ProjectionExpression: '#sk' }),
    )
    return indexesOf(headers).map(({ index }) => index)
  }

  async results(runId: string): Promise<StoredShardResult[]> {
    checkRunId(runId)
    return this.ctx.run('read shard results', async () => {
      const headers = indexesOf(await queryAll(this.ctx.doc, this.headersQuery(runId)))
      // Read after the headers: a header is put only once all its parts are, so every part it names is found.
      const data = await this.partsNamed(runId, headers)
      const results: StoredShardResult[] = []
      for (const { index, header } of headers) {
        const payload = assemble(index, header, data)
        // Parts gone while their header stays: DynamoDB's TTL deletes item by item, after the result expired.
        if (payload === null) continue
        results.push({ runId, index, payload, ttl: Number(header[TTL]) })
      }
      return results
    })
  }

  private headersQuery(runId: string) {
    return {
      TableName: this.ctx.table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': runPk(runId), ':prefix': SHARD_SK_PREFIX },
      ConsistentRead: true,
    }
  }

  /**
   * The data of the parts the headers name, by sort key: one query over the key range from the first such part to
   * the last, page by page, keeping only those. A losing or crashed writer's parts inside that range are read and
   * dropped (a loser deletes its own, so they are rare); one query per header would cost a round trip per shard.
   */
  private async partsNamed(runId: string, headers: readonly Header[]): Promise<Map<string, Uint8Array>> {
    const wanted = new Set(headers.flatMap(({ index, header }) => partSks(index, header)))
    const data = new Map<string, Uint8Array>()
    const sorted = [...wanted].sort()
    const [first, last] = [sorted[0], sorted.at(-1)]
    if (first === undefined || last === undefined) return data
    let start: Record<string, unknown> | undefined
    do {
      const out = await this.ctx.doc.send(
        new QueryCommand({
          TableName: this.ctx.table,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#data': 'data' },
          ExpressionAttributeValues: { ':pk': runPk(runId), ':first': first, ':last': last },
          ProjectionExpression: '#sk, #data',
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      )
      for (const item of (out.Items ?? []) as Item[]) {
        const sk = String(item[SK])
        if (wanted.has(sk) && item.data instanceof Uint8Array) data.set(sk, item.data)
      }
      start = out.LastEvaluatedKey
    } while (start !== undefined)
    return data
  }

  async claimFinish(runId: string, owner: string, now: number, until: number): Promise<boolean> {
    checkFinishClaim(runId, owner, now, until)
    return this.ctx.run('claim a run finish', async () => {
      try {
        await this.ctx.doc.send(
          new PutCommand({
            TableName: this.ctx.table,
            Item: { ...finishClaimKey(runId), owner, until, [TTL]: Math.floor(until / 1000) + CLAIM_KEPT_S },
            // Absent, expired, or already this owner's (a re-take, or the SDK retrying a put whose reply was lost).
            ConditionExpression: 'attribute_not_exists(#pk) OR #until <= :now OR #owner = :owner',
            ExpressionAttributeNames: { '#pk': PK, '#until': 'until', '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now, ':owner': owner },
          }),
        )
        return true
      } catch (err) {
        if (errorName(err) === 'ConditionalCheckFailedException') return false
        throw err
      }
    })
  }
}

interface Header {
  index: number
  header: Item
}

/** The items that are headers, with their indexes, by index ascending. */
function indexesOf(items: readonly Item[]): Header[] {
  const headers: Header[] = []
  for (const header of items) {
    const index = shardIndexOfHeaderSk(header[SK])
    if (index !== null) headers.push({ index, header })
  }
  return headers.sort((a, b) => a.index - b.index)
}

/** The sort keys of the parts a header names. */
function partSks(index: number, header: Item): string[] {
  return Array.from({ length: Number(header.parts) }, (_, part) =>
    shardPartSk(index, String(header.nonce), part),
  )
}

/** The payload the header names, from its parts' data; null when a part is missing. */
function assemble(index: number, header: Item, data: ReadonlyMap<string, Uint8Array>): string | null {
  const chunks: Uint8Array[] = []
  for (const sk of partSks(index, header)) {
    const chunk = data.get(sk)
    if (chunk === undefined) return null
    chunks.push(chunk)
  }
  const bytes = Buffer.concat(chunks)
  if (bytes.length !== Number(header.bytes)) return null
  return bytes.toString('utf8')
}
