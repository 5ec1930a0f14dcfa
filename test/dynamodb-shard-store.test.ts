import {
  type AttributeValue,
  DeleteTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DynamoDbAnomalyStore } from '../src/adapters/dynamodb/anomaly-store.js'
import { createDocumentClient, createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { SHARD_PART_BYTES } from '../src/adapters/dynamodb/shard-store.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { multiByteText, shardResult } from './contract/shard-store.contract.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { ManualClock } from './helpers.js'

// The DynamoDB layout of shard results behind the contract (test/contract/shard-store.contract.ts): parts under a
// writer's nonce and a prefix of their own, a conditional header, and what a crashed, losing or retried writer
// leaves behind.

const REGION = 'us-east-1'
const NOW = Date.UTC(2026, 10, 25, 10, 5)
const MAX_ITEM_BYTES = 400 * 1024

let dynalite: Dynalite
let admin: DynamoDBClient
let tables = 0
let table: string
const stores: DynamoDbAnomalyStore[] = []

beforeAll(async () => {
  dynalite = await startDynalite()
  admin = createDynamoDbClient({ region: REGION, endpoint: dynalite.endpoint, env: {} })
})
afterAll(async () => {
  admin?.destroy()
  await dynalite?.stop()
})
beforeEach(async () => {
  table = `meterflow-shards-${process.pid}-${++tables}`
  await createAnomalyTable(admin, table, () => undefined)
})
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined)
})

/**
 * A store on its own client; `lostReply` makes a header put behave as when DynamoDB stored it but the reply was
 * lost: the SDK sends it again, and the second attempt fails its condition. `read` collects every item a Query
 * returns to the store.
 */
function openStore(
  options: { lostReply?: boolean; read?: Record<string, unknown>[] } = {},
): DynamoDbAnomalyStore {
  const client = createDynamoDbClient({ region: REGION, endpoint: dynalite.endpoint, env: {} })
  const read = options.read
  if (read) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args)
        if (context.commandName === 'QueryCommand') {
          read.push(...((out.output as { Items?: Record<string, unknown>[] }).Items ?? []))
        }
        return out
      },
      { step: 'initialize', name: 'recordReads' },
    )
  }
  if (options.lostReply) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        // The document client's input, not yet marshalled.
        const input = args.input as { Item?: Record<string, unknown> }
        const header = context.commandName === 'PutItemCommand' && /^SHARD#\d+$/.test(String(input.Item?.sk))
        if (!header) return next(args)
        await next(args)
        return next(args)
      },
      { step: 'initialize', name: 'loseReply' },
    )
  }
  const store = new DynamoDbAnomalyStore(createDocumentClient(client), {
    table,
    clock: new ManualClock(NOW),
    onClose: () => client.destroy(),
  })
  stores.push(store)
  return store
}

async function partition(runId: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const out = await admin.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `RUN#${runId}` } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    )
    items.push(...(out.Items ?? []))
    start = out.LastEvaluatedKey
  } while (start)
  return items
}

/** Parts as a writer that died before its header (or lost and could not clean up) leaves them. */
async function strayParts(runId: string, index: number, nonce: string, payload: string): Promise<void> {
  const bytes = Buffer.from(payload)
  for (let part = 0; part * SHARD_PART_BYTES < bytes.length; part++) {
    await admin.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `RUN#${runId}` },
          sk: { S: `SHARDPART#${String(index).padStart(6, '0')}#${nonce}#${String(part).padStart(4, '0')}` },
          data: { B: bytes.subarray(part * SHARD_PART_BYTES, (part + 1) * SHARD_PART_BYTES) },
          ttl: { N: '1' },
        },
      }),
    )
  }
}

describe('shard results in the DynamoDB table', () => {
  it('stores a large result as a header and parts (their own prefix) under 400 KB each, every item with a ttl', async () => {
    const store = openStore()
    const payload = multiByteText(1_500_000)
    const bytes = Buffer.byteLength(payload)
    const result = shardResult('run-1', 7, payload)
    expect(await store.shards.putResult(result)).toBe(true)
    const items = await partition('run-1')
    const header = items.find((i) => i.sk?.S === 'SHARD#000007')
    const parts = Math.ceil(bytes / SHARD_PART_BYTES)
    expect(header).toMatchObject({ parts: { N: String(parts) }, bytes: { N: String(bytes) } })
    const nonce = header?.nonce?.S ?? ''
    expect(nonce).toMatch(/^[0-9a-f-]{36}$/)
    expect(items.map((i) => i.sk?.S).sort()).toEqual([
      'SHARD#000007',
      ...Array.from({ length: parts }, (_, p) => `SHARDPART#000007#${nonce}#${String(p).padStart(4, '0')}`),
    ])
    for (const item of items) {
      expect(item.ttl).toEqual({ N: String(result.ttl) })
      expect(item.metric, 'out of the seed GSI').toBeUndefined()
      const size = Object.entries(item).reduce(
        (n, [name, v]) => n + name.length + (v.B?.length ?? Buffer.byteLength(v.S ?? v.N ?? '')),
        0,
      )
      expect(size).toBeLessThan(MAX_ITEM_BYTES)
    }
  })

  it('ignores parts no header names: a writer that died before its header does not block or leak', async () => {
    const store = openStore()
    await strayParts('run-1', 0, 'dead-writer', multiByteText(400_000, 'x'))
    await strayParts('run-1', 5, 'dead-writer', 'a small one')
    expect(await store.shards.results('run-1')).toEqual([])
    expect(await store.shards.storedIndexes('run-1')).toEqual([])
    expect(await store.shards.putResult(shardResult('run-1', 0, 'the real one'))).toBe(true)
    expect(await store.shards.results('run-1')).toStrictEqual([shardResult('run-1', 0, 'the real one')])
    expect(await store.shards.storedIndexes('run-1')).toStrictEqual([0])
  })

  it('lists stored indexes from the headers alone: no part and no payload is read', async () => {
    const read: Record<string, unknown>[] = []
    const store = openStore({ read })
    for (const index of [4, 0, 2]) {
      expect(
        await store.shards.putResult(shardResult('run-1', index, multiByteText(700_000, `${index}`))),
      ).toBe(true)
    }
    await strayParts('run-1', 3, 'dead-writer', multiByteText(400_000, 'x'))
    await strayParts('run-1', 2, '00000000-loser', multiByteText(400_000, 'l'))
    expect(await store.shards.claimFinish('run-1', 'a', NOW, NOW + 1000)).toBe(true)
    read.length = 0
    expect(await store.shards.storedIndexes('run-1')).toStrictEqual([0, 2, 4])
    expect(read.map((item) => Object.keys(item))).toEqual([['sk'], ['sk'], ['sk']])
    expect(read.map((item) => item.sk)).toEqual(['SHARD#000000', 'SHARD#000002', 'SHARD#000004'])
    // results() reads the parts, and a stray writer's parts change nothing
    const results = await store.shards.results('run-1')
    expect(results.map((r) => [r.index, r.payload === multiByteText(700_000, `${r.index}`)])).toEqual([
      [0, true],
      [2, true],
      [4, true],
    ])
  })

  it('reads only the winning nonce when a loser left its parts, and a loser removes its own', async () => {
    const store = openStore()
    const winner = multiByteText(500_000, 'w')
    expect(await store.shards.putResult(shardResult('run-1', 0, winner))).toBe(true)
    const before = (await partition('run-1')).length
    // a loser whose clean-up failed: its parts sort around the winner's
    await strayParts('run-1', 0, '00000000-loser', multiByteText(450_000, 'l'))
    await strayParts('run-1', 0, 'ffffffff-loser', multiByteText(450_000, 'l'))
    const [read] = await store.shards.results('run-1')
    expect(read?.payload === winner).toBe(true)
    expect(await store.shards.storedIndexes('run-1')).toStrictEqual([0])
    // a loser that can clean up leaves nothing behind
    const after = (await partition('run-1')).length
    expect(await store.shards.putResult(shardResult('run-1', 0, multiByteText(900_000, 'x')))).toBe(false)
    expect((await partition('run-1')).length).toBe(after)
    expect(after).toBeGreaterThan(before)
  })

  it('counts a header put retried after a lost reply as stored, and keeps its parts', async () => {
    const store = openStore({ lostReply: true })
    const payload = multiByteText(700_000)
    expect(await store.shards.putResult(shardResult('run-1', 3, payload))).toBe(true)
    const [read] = await store.shards.results('run-1')
    expect(read?.index).toBe(3)
    expect(read?.payload === payload).toBe(true)
    expect(await store.shards.storedIndexes('run-1')).toStrictEqual([3])
    // a later duplicate of the shard still loses
    expect(await store.shards.putResult(shardResult('run-1', 3, 'other'))).toBe(false)
  })

  it('writes the finish claim as one item with owner, until and a ttl past the claim', async () => {
    const store = openStore()
    expect(await store.shards.claimFinish('run-1', 'worker-a', NOW, NOW + 300_000)).toBe(true)
    const [claim] = (await partition('run-1')).filter((i) => i.sk?.S === 'FINISH')
    expect(claim).toMatchObject({
      owner: { S: 'worker-a' },
      until: { N: String(NOW + 300_000) },
    })
    expect(Number(claim?.ttl?.N)).toBeGreaterThan((NOW + 300_000) / 1000)
  })
})
