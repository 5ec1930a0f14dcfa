import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb'
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { DynamoDbAnomalyStore } from '../src/adapters/dynamodb/anomaly-store.js'
import { createDocumentClient, createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { registerDynamoDbCommands } from '../src/cli/dynamodb-command.js'
import { loadConfig } from '../src/config.js'
import type { IncidentAlert } from '../src/domain/alert.js'
import { incidentId } from '../src/domain/incident.js'
import { ConflictError, StoreError, ValidationError } from '../src/errors.js'
import { ALERT_NOW, delivery, describeAlertStoreContract } from './contract/alert-store.contract.js'
import { describeAnomalyKindContract } from './contract/anomaly-kind.contract.js'
import {
  anomaly,
  customer,
  DAY,
  describeAnomalyStoreContract,
  HOUR,
  identity,
  incident,
  NOW,
  run,
  SLOT,
} from './contract/anomaly-store.contract.js'
import { describeApiKeyStoreContract } from './contract/api-key-store.contract.js'
import { describeListOrderContract } from './contract/list-orders.contract.js'
import { describeShardStoreContract } from './contract/shard-store.contract.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { ManualClock } from './helpers.js'

const REGION = 'us-east-1'
/** No AWS credential variables: the adapter signs with dummy credentials, as for any local endpoint. */
const NO_CREDENTIALS = {}

let dynalite: Dynalite
let admin: DynamoDBClient
let tables = 0

beforeAll(async () => {
  dynalite = await startDynalite()
  admin = createDynamoDbClient({ region: REGION, endpoint: dynalite.endpoint, env: NO_CREDENTIALS })
})

afterAll(async () => {
  admin?.destroy()
  await dynalite?.stop()
})

function tableName(): string {
  tables += 1
  return `meterflow-test-${process.pid}-${tables}`
}

async function freshTable(warnings: string[] = []): Promise<string> {
  const table = tableName()
  await createAnomalyTable(admin, table, (message) => warnings.push(message))
  return table
}

async function dropTable(table: string): Promise<void> {
  await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined)
}

/** A fresh, empty store per contract test. */
const openDynamoStore = async (clock: ManualClock) => {
  const table = await freshTable()
  const store = await DynamoDbAnomalyStore.open({
    table,
    region: REGION,
    endpoint: dynalite.endpoint,
    clock,
    env: NO_CREDENTIALS,
  })
  return {
    store,
    async cleanup() {
      await store.close()
      await dropTable(table)
    },
  }
}

describeAnomalyStoreContract('DynamoDB (dynalite)', openDynamoStore)
describeAnomalyKindContract('DynamoDB (dynalite)', openDynamoStore)
describeListOrderContract('DynamoDB (dynalite)', openDynamoStore, 'time')
describeAlertStoreContract('DynamoDB (dynalite)', openDynamoStore)
describeApiKeyStoreContract('DynamoDB (dynalite)', openDynamoStore)
describeShardStoreContract('DynamoDB (dynalite)', openDynamoStore)

interface Sent {
  command: string
  input: Record<string, unknown>
}

/**
 * A store on its own client, with an SDK middleware that records every command (after the document client's
 * marshalling, as sent) and, when `throttle` says so, answers a batch call with part of it unprocessed, as
 * DynamoDB does when a partition is throttled (dynalite never does).
 */
function instrumentedStore(
  table: string,
  clock: ManualClock,
  options: {
    maxAttempts?: number
    endpoint?: string
    /** How many of a batch call's n requests DynamoDB processes (the rest come back unprocessed); all if unset. */
    process?: (command: string, call: number, n: number) => number | undefined
    /** When it says so, a command fails before it is sent, as if the process died just before it. */
    crash?: (command: string, input: Record<string, unknown>) => boolean
  } = {},
) {
  const client = createDynamoDbClient({
    region: REGION,
    endpoint: options.endpoint ?? dynalite.endpoint,
    env: NO_CREDENTIALS,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  })
  const sent: Sent[] = []
  const calls = new Map<string, number>()
  const concurrency = { now: 0, max: 0 }
  client.middlewareStack.add(
    (next) => async (args) => {
      concurrency.max = Math.max(concurrency.max, ++concurrency.now)
      try {
        return await next(args)
      } finally {
        concurrency.now--
      }
    },
    { step: 'initialize', name: 'countInFlight' },
  )
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '')
      const input = args.input as Record<string, unknown>
      if (options.crash?.(command, input)) throw new Error(`simulated crash before ${command}`)
      sent.push({ command, input: structuredClone(input) })
      const call = (calls.get(command) ?? 0) + 1
      calls.set(command, call)
      if (command !== 'BatchWriteItem' && command !== 'BatchGetItem') return next(args)
      const requestItems = input.RequestItems as Record<string, unknown>
      const request = requestItems[table]
      const list = (
        command === 'BatchWriteItem' ? request : (request as { Keys: unknown[] }).Keys
      ) as unknown[]
      const keep = options.process?.(command, call, list.length) ?? list.length
      if (keep >= list.length) return next(args)
      const [kept, held] = [list.slice(0, keep), list.slice(keep)]
      const wrap = (part: unknown[]) =>
        command === 'BatchWriteItem' ? part : { ...(request as object), Keys: part }
      const result =
        kept.length > 0
          ? await next({ ...args, input: { ...input, RequestItems: { [table]: wrap(kept) } } })
          : { output: { $metadata: {} }, response: {} }
      const output = result.output as unknown as Record<string, unknown>
      output[command === 'BatchWriteItem' ? 'UnprocessedItems' : 'UnprocessedKeys'] = { [table]: wrap(held) }
      return result as Awaited<ReturnType<typeof next>>
    },
    { step: 'initialize', name: 'recordAndThrottle' },
  )
  const store = new DynamoDbAnomalyStore(createDocumentClient(client), {
    table,
    clock,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    onClose: () => client.destroy(),
  })
  return { store, client, sent, concurrency }
}

describe('DynamoDbAnomalyStore on dynalite', () => {
  let table: string
  let clock: ManualClock
  const closers: (() => Promise<void>)[] = []

  const open = (options?: Parameters<typeof instrumentedStore>[2]) => {
    const opened = instrumentedStore(table, clock, options)
    closers.push(() => opened.store.close())
    return opened
  }
  const rawGet = async (pk: string, sk: string) =>
    (await admin.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item

  beforeEach(async () => {
    table = await freshTable()
    clock = new ManualClock(NOW)
  })

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await dropTable(table)
  })

  it("creates the seed's table: pk/sk, GSI metric-severity-index on (metric, detected_at) projecting all", async () => {
    const { Table } = await admin.send(new DescribeTableCommand({ TableName: table }))
    expect(Table?.TableStatus).toBe('ACTIVE')
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST')
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ])
    expect(
      [...(Table?.AttributeDefinitions ?? [])].sort((a, b) =>
        String(a.AttributeName).localeCompare(String(b.AttributeName)),
      ),
    ).toEqual([
      { AttributeName: 'detected_at', AttributeType: 'N' },
      { AttributeName: 'metric', AttributeType: 'S' },
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ])
    expect(Table?.GlobalSecondaryIndexes).toHaveLength(1)
    const index = Table?.GlobalSecondaryIndexes?.[0]
    expect(index?.IndexName).toBe('metric-severity-index')
    expect(index?.KeySchema).toEqual([
      { AttributeName: 'metric', KeyType: 'HASH' },
      { AttributeName: 'detected_at', KeyType: 'RANGE' },
    ])
    expect(index?.Projection).toEqual({ ProjectionType: 'ALL' })
  })

  it("writes anomaly items with the seed's key format, attribute names and types", async () => {
    const { store } = open()
    const record = anomaly({
      customerId: 'cust-1',
      metric: 'bandwidth',
      detectedAt: SLOT,
      incidentId: 'cust-1|bandwidth|2025-03-10T12:00:00.000Z',
    })
    await store.putAnomalies([
      record,
      anomaly({ customerId: 'cust-1', metric: 'api_calls', detectedAt: SLOT }),
    ])
    const item = await rawGet('CUSTOMER#cust-1', `ANOMALY#${SLOT}#bandwidth`)
    expect(String(SLOT)).toHaveLength(13)
    expect(item).toEqual({
      pk: { S: 'CUSTOMER#cust-1' },
      sk: { S: `ANOMALY#${SLOT}#bandwidth` },
      customer_id: { S: 'cust-1' },
      metric: { S: 'bandwidth' },
      detected_at: { N: String(SLOT) },
      current_value: { N: '1500' },
      baseline_mean: { N: '1000' },
      baseline_stddev: { N: '100' },
      z_score: { N: '5' },
      severity: { S: 'critical' },
      ttl: { N: String(record.ttl) },
      direction: { S: 'spike' },
      window_start: { N: String(SLOT - DAY) },
      window_end: { N: String(SLOT) },
      samples: { N: '30' },
      window_kind: { S: 'day' },
      incident_id: { S: record.incidentId },
      run_id: { S: record.runId },
    })
    const other = await rawGet('CUSTOMER#cust-1', `ANOMALY#${SLOT}#api_calls`)
    expect(other?.incident_id).toEqual({ NULL: true })
  })

  it("keeps another signal's item beside the volume item of the same slot and metric, and refuses to read a kind it does not know", async () => {
    const { store } = open()
    const record = anomaly({ customerId: 'cust-1', metric: 'bandwidth', detectedAt: SLOT })
    await store.putAnomalies([record])
    // An item a newer MeterFlow wrote for a signal this version lacks: its own key (the `#kind` suffix) and `kind`.
    const { pk, sk, ...attributes } = (await rawGet('CUSTOMER#cust-1', `ANOMALY#${SLOT}#bandwidth`)) ?? {}
    expect(attributes.kind).toBeUndefined()
    await admin.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...attributes,
          pk: pk as AttributeValue,
          sk: { S: `ANOMALY#${SLOT}#bandwidth#seasonality` },
          kind: { S: 'seasonality' },
        },
      }),
    )
    expect(await rawGet('CUSTOMER#cust-1', `ANOMALY#${SLOT}#bandwidth`)).toEqual({ pk, sk, ...attributes })
    expect(await store.putAnomalies([record])).toBe(0)
    // Filtered to volume, the foreign item is never read; unfiltered, it is a clear StoreError, not a volume record.
    expect(
      (await store.queryAnomalies({ customerId: 'cust-1', kind: 'volume', limit: 10 })).items,
    ).toStrictEqual([record])
    expect(
      (await store.queryAnomalies({ metric: 'bandwidth', kind: 'volume', limit: 10 })).items,
    ).toStrictEqual([record])
    const err = await store.queryAnomalies({ customerId: 'cust-1', limit: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(String(err)).toMatch(/attribute kind is not one of volume, shape/)
  })

  it('reads an item written before the window was recorded as window_kind null, and refuses a window it does not know', async () => {
    const { store } = open()
    const record = anomaly({
      customerId: 'cust-1',
      metric: 'bandwidth',
      detectedAt: SLOT,
      windowKind: 'hour',
    })
    await store.putAnomalies([record])
    const key = `ANOMALY#${SLOT}#bandwidth`
    const { window_kind, ...older } = (await rawGet('CUSTOMER#cust-1', key)) ?? {}
    expect(window_kind).toEqual({ S: 'hour' })
    // The seed's item, as this version's predecessors wrote it: no window_kind attribute.
    await admin.send(new PutItemCommand({ TableName: table, Item: older as Record<string, AttributeValue> }))
    expect((await store.queryAnomalies({ customerId: 'cust-1', limit: 10 })).items).toStrictEqual([
      { ...record, windowKind: null },
    ])
    const item = { ...older, window_kind: { S: 'week' } } as Record<string, AttributeValue>
    await admin.send(new PutItemCommand({ TableName: table, Item: item }))
    const err = await store.queryAnomalies({ metric: 'bandwidth', limit: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(String(err)).toMatch(/attribute window_kind is not one of day, hour, recent/)
  })

  it('pads detected_at to 13 digits in the sort key', async () => {
    const { store } = open()
    const early = anomaly({ customerId: 'c', metric: 'api_calls', detectedAt: 5 * HOUR })
    expect(await store.putAnomalies([early])).toBe(1)
    expect(await rawGet('CUSTOMER#c', `ANOMALY#00000${5 * HOUR}#api_calls`)).toBeDefined()
    expect((await store.queryAnomalies({ customerId: 'c', limit: 5 })).items).toStrictEqual([early])
  })

  it('answers "all bandwidth anomalies in the last week" from the GSI', async () => {
    const { store, sent } = open()
    const records = []
    for (let day = 0; day < 10; day++) {
      for (const [i, customerId] of ['c1', 'c2', 'c3'].entries()) {
        for (const metric of ['bandwidth', 'api_calls']) {
          records.push(anomaly({ customerId, metric, detectedAt: SLOT - day * DAY - i * HOUR }))
        }
      }
    }
    await store.putAnomalies(records)
    const weekAgo = SLOT - 7 * DAY
    const raw = await admin.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'metric-severity-index',
        KeyConditionExpression: 'metric = :m AND detected_at >= :since',
        ExpressionAttributeValues: { ':m': { S: 'bandwidth' }, ':since': { N: String(weekAgo) } },
        ScanIndexForward: false,
      }),
    )
    const rawIds = (raw.Items ?? []).map((item) => `${item.customer_id?.S}|bandwidth|${item.detected_at?.N}`)
    const expected = records
      .filter((r) => r.metric === 'bandwidth' && r.detectedAt >= weekAgo)
      .sort((a, b) => b.detectedAt - a.detectedAt)
      .map(identity)
    expect(rawIds).toEqual(expected)

    sent.length = 0
    const page = await store.queryAnomalies({ metric: 'bandwidth', since: weekAgo, limit: 100 })
    expect(page.items.map(identity)).toEqual(expected)
    expect(page.nextCursor).toBeNull()
    expect(sent.map((s) => [s.command, s.input.IndexName])).toEqual([['Query', 'metric-severity-index']])

    // A page at a time, the walk resumes exactly after the last item returned.
    const walked: string[] = []
    let cursor: string | undefined
    do {
      const next = await store.queryAnomalies({ metric: 'bandwidth', since: weekAgo, limit: 4, cursor })
      expect(next.items.length).toBeLessThanOrEqual(4)
      walked.push(...next.items.map(identity))
      cursor = next.nextCursor ?? undefined
    } while (cursor)
    expect(walked).toEqual(expected)
  })

  it('keeps incidents, runs and customers out of the GSI, under their own keys', async () => {
    const { store, sent } = open()
    const id = incidentId('team|a', 'bandwidth', SLOT - 2 * HOUR)
    const inc = incident({ id, customerId: 'team|a', metric: 'bandwidth', openedAt: SLOT - 2 * HOUR })
    await store.saveIncidents([inc])
    await store.saveRun(run({ runId: 'r1', slot: SLOT, startedAt: SLOT + 5 }))
    await store.putCustomer(customer({ customerId: 'team|a' }))
    await store.putAnomalies([anomaly({ customerId: 'team|a', metric: 'bandwidth', detectedAt: SLOT })])

    const indexed = await admin.send(
      new ScanCommand({ TableName: table, IndexName: 'metric-severity-index' }),
    )
    expect((indexed.Items ?? []).map((item) => item.pk?.S)).toEqual(['CUSTOMER#team|a'])
    const all = (await admin.send(new ScanCommand({ TableName: table }))).Items ?? []
    expect(all.map((item) => `${item.pk?.S} ${item.sk?.S}`).sort()).toEqual(
      [
        'CUSTOMER#team|a ANOMALY#1741608000000#bandwidth',
        'CUSTOMERS team|a',
        'INCIDENT 2025-03-10T10:00:00.000Z#team|a#bandwidth',
        'RUN#r1 RUN',
        `RUNS ${SLOT}#${String(SLOT + 5).padStart(13, '0')}#r1`,
      ].sort(),
    )
    const incidentRaw = all.find((item) => item.pk?.S === 'INCIDENT')
    expect(incidentRaw?.incident_metric).toEqual({ S: 'bandwidth' })
    expect(incidentRaw?.ttl).toBeUndefined()
    const runRaw = all.find((item) => item.pk?.S === 'RUNS')
    expect(runRaw?.ttl).toEqual({ N: String(Math.floor((SLOT + 5) / 1000) + 90 * 86_400) })

    // An id the domain made is found by its derived key, with one GetItem.
    sent.length = 0
    expect(await store.getIncident(id)).toStrictEqual(inc)
    expect(sent.map((s) => s.command)).toEqual(['GetItem'])

    // Resolution sets the incident's ttl: 90 days after it resolved.
    const resolved = { ...inc, status: 'resolved' as const, resolvedAt: SLOT, lastEvaluatedSlot: SLOT }
    expect(await store.saveIncidents([resolved])).toEqual([id])
    const after = await rawGet('INCIDENT', '2025-03-10T10:00:00.000Z#team|a#bandwidth')
    expect(after?.ttl).toEqual({ N: String(Math.floor(SLOT / 1000) + 90 * 86_400) })
  })

  it('refuses a second incident id under the same customer, metric and opening time', async () => {
    const { store } = open()
    const first = incident({ id: 'first', customerId: 'c1', metric: 'api_calls', openedAt: SLOT })
    await store.saveIncidents([first])
    const clash = { ...first, id: 'second', lastEvaluatedSlot: SLOT + HOUR }
    await expect(store.saveIncidents([clash])).rejects.toBeInstanceOf(ConflictError)
    expect(await store.getIncident('first')).toStrictEqual(first)
  })

  it('stores 60 records (three BatchWriteItem chunks) exactly once', async () => {
    const { store, sent } = open()
    const records = Array.from({ length: 60 }, (_, i) =>
      anomaly({ customerId: `c${i % 4}`, metric: 'api_calls', detectedAt: SLOT - i * HOUR }),
    )
    expect(await store.putAnomalies(records)).toBe(60)
    const writes = sent.filter((s) => s.command === 'BatchWriteItem')
    expect(writes.map((w) => (w.input.RequestItems as Record<string, unknown[]>)[table]?.length)).toEqual([
      25, 25, 10,
    ])
    expect(await store.putAnomalies(records)).toBe(0)
    expect(await store.putAnomalies([...records].reverse().slice(0, 30))).toBe(0)
    const scanned = await admin.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))
    expect(scanned.Count).toBe(60)
    const stored = []
    for (const c of ['c0', 'c1', 'c2', 'c3']) {
      stored.push(...(await store.queryAnomalies({ customerId: c, limit: 100 })).items)
    }
    expect(stored.map(identity).sort()).toEqual(records.map(identity).sort())
  })

  it('retries UnprocessedItems and UnprocessedKeys until everything is stored', async () => {
    const { store, sent } = open({
      process: (_command, call, n) => (call <= 3 ? Math.ceil(n / 2) : undefined),
    })
    const records = Array.from({ length: 40 }, (_, i) =>
      anomaly({ customerId: 'c', metric: 'bandwidth', detectedAt: SLOT - i * HOUR }),
    )
    expect(await store.putAnomalies(records)).toBe(40)
    expect(sent.filter((s) => s.command === 'BatchGetItem').length).toBeGreaterThan(1)
    expect(sent.filter((s) => s.command === 'BatchWriteItem').length).toBeGreaterThan(2)
    expect((await store.queryAnomalies({ customerId: 'c', limit: 100 })).items).toHaveLength(40)
    expect(await store.putAnomalies(records)).toBe(0)
  })

  it('fails with a StoreError, never silently, when writes stay unprocessed', async () => {
    const { store } = open({ process: (command) => (command === 'BatchWriteItem' ? 0 : undefined) })
    const records = [1, 2, 3].map((h) =>
      anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT - h * HOUR }),
    )
    const err = await store.putAnomalies(records).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as Error).message).toMatch(/unprocessed after 8 attempts/)
    expect((err as Error).message).toContain(table)
  })

  it('round-trips numbers beyond 2^53 and tiny fractions as doubles', async () => {
    const { store } = open()
    const record = anomaly({
      customerId: 'big',
      metric: 'bandwidth',
      detectedAt: SLOT,
      currentValue: 1.2345678901234567e20,
      baselineMean: 2 ** 53 + 2,
      baselineStddev: 2.5e-7,
      zScore: -1e-12,
    })
    await store.putAnomalies([record])
    expect((await store.queryAnomalies({ customerId: 'big', limit: 1 })).items).toStrictEqual([record])
  })

  it('surfaces SDK failures as StoreErrors naming the operation and the table', async () => {
    const missing = `${table}-missing`
    const { store } = instrumentedStore(missing, clock)
    closers.push(() => store.close())
    const err = await store
      .putAnomalies([anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT })])
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as Error).message).toContain('failed to store anomalies')
    expect((err as Error).message).toContain(missing)
    expect((err as Error).message).toContain('ResourceNotFoundException')
    await expect(store.queryAnomalies({ metric: 'm', limit: 1 })).rejects.toThrow(/failed to query anomalies/)
    await expect(store.listRuns({ limit: 1 })).rejects.toThrow(/failed to list runs/)

    await expect(
      DynamoDbAnomalyStore.open({
        table: missing,
        region: REGION,
        endpoint: dynalite.endpoint,
        clock,
        env: {},
      }),
    ).rejects.toThrow(/failed to open the anomaly store \(table .*-missing\).*create-table/)

    // A backend that went away.
    const other = await startDynalite()
    const otherAdmin = createDynamoDbClient({ region: REGION, endpoint: other.endpoint, env: NO_CREDENTIALS })
    await createAnomalyTable(otherAdmin, 'gone', () => undefined)
    otherAdmin.destroy()
    const { store: orphan } = instrumentedStore('gone', clock, { endpoint: other.endpoint, maxAttempts: 2 })
    closers.push(() => orphan.close())
    await orphan.putCustomer(customer({ customerId: 'c1' }))
    await other.stop()
    const down = await orphan.getCustomer('c1').catch((e: unknown) => e)
    expect(down).toBeInstanceOf(StoreError)
    expect((down as Error).message).toMatch(/failed to read a customer \(table /)
  })

  it('resumes a walk exactly after the last item when items are written between pages', async () => {
    const { store } = open()
    await store.putAnomalies(
      [1, 2, 3, 4].map((h) => anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT - h * HOUR })),
    )
    const first = await store.queryAnomalies({ customerId: 'c', limit: 2 })
    await store.putAnomalies([anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT })])
    const second = await store.queryAnomalies({ customerId: 'c', limit: 2, cursor: first.nextCursor ?? '' })
    expect([...first.items, ...second.items].map((r) => r.detectedAt)).toEqual(
      [1, 2, 3, 4].map((h) => SLOT - h * HOUR),
    )
    expect(second.nextCursor).toBeNull()
  })

  it('refuses a cursor from another query or listing, and bad limits', async () => {
    const { store } = open()
    await store.putAnomalies(
      [0, 1, 2].map((h) => anomaly({ customerId: 'c1', metric: 'm', detectedAt: SLOT - h * HOUR })),
    )
    await store.saveRun(run({ runId: 'r1', slot: SLOT, startedAt: SLOT }))
    await store.saveRun(run({ runId: 'r2', slot: SLOT - HOUR, startedAt: SLOT - HOUR }))
    const { nextCursor } = await store.queryAnomalies({ customerId: 'c1', limit: 1 })
    const runCursor = (await store.listRuns({ limit: 1 })).nextCursor ?? ''
    const fields = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ValidationError)
      return (err as ValidationError).details.map((d) => d.field)
    }
    expect(
      await fields(store.queryAnomalies({ customerId: 'c2', limit: 1, cursor: nextCursor ?? '' })),
    ).toEqual(['cursor'])
    expect(
      await fields(store.queryAnomalies({ metric: 'other', limit: 1, cursor: nextCursor ?? '' })),
    ).toEqual(['cursor'])
    expect(await fields(store.listIncidents({ limit: 1, cursor: runCursor }))).toEqual(['cursor'])
    expect(await fields(store.queryAnomalies({ customerId: 'c1', limit: 0 }))).toEqual(['limit'])
    expect(
      await fields(store.putAnomalies([anomaly({ customerId: 'c', metric: 'm', detectedAt: -1 })])),
    ).toEqual(['detected_at'])
    // The same cursor continues a by-metric walk of the same items.
    const byMetric = await store.queryAnomalies({ metric: 'm', limit: 5, cursor: nextCursor ?? '' })
    expect(byMetric.items.map((r) => r.detectedAt)).toEqual([SLOT - HOUR, SLOT - 2 * HOUR])
  })

  it('is unusable after close, and close is idempotent', async () => {
    const { store } = open()
    await store.close()
    await store.close()
    await expect(store.getRun('r1')).rejects.toThrow(/closed/)
  })
})

describe('createAnomalyTable', () => {
  it('is idempotent and tolerates an endpoint without UpdateTimeToLive', async () => {
    const table = tableName()
    const warnings: string[] = []
    expect(await createAnomalyTable(admin, table, (m) => warnings.push(m))).toBe('created')
    expect(await createAnomalyTable(admin, table, (m) => warnings.push(m))).toBe('exists')
    expect(warnings).toHaveLength(2)
    for (const warning of warnings) expect(warning).toMatch(/^TTL could not be enabled on this endpoint: /)
    await dropTable(table)
  })

  it('refuses an existing table with other keys', async () => {
    const table = tableName()
    await admin.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    )
    await expect(createAnomalyTable(admin, table, () => undefined)).rejects.toThrow(
      /not a MeterFlow anomaly table/,
    )
    await dropTable(table)
  })
})

describe('meterflow dynamodb create-table', () => {
  it('creates the table, then reports that it exists, warning about TTL on dynalite', async () => {
    const table = tableName()
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      for (let i = 0; i < 2; i++) {
        const program = new Command().exitOverride()
        registerDynamoDbCommands(program, loadConfig({}))
        await program.parseAsync(
          ['dynamodb', 'create-table', '--table', table, '--endpoint', dynalite.endpoint],
          { from: 'user' },
        )
      }
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
        `created table ${table} at ${dynalite.endpoint}; it is active`,
        `table ${table} already exists at ${dynalite.endpoint}; it is active and has the expected keys`,
      ])
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/^meterflow: warning: TTL could not be enabled on this endpoint: /),
        expect.stringMatching(/^meterflow: warning: TTL could not be enabled on this endpoint: /),
      ])
      const { Table } = await admin.send(new DescribeTableCommand({ TableName: table }))
      expect(Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('metric-severity-index')
    } finally {
      log.mockRestore()
      warn.mockRestore()
      await dropTable(table)
    }
  })
})

describe('DynamoDbAlertStore on dynalite', () => {
  const MINUTE = 60_000
  let table: string
  let clock: ManualClock
  const closers: (() => Promise<void>)[] = []

  const open = (options?: Parameters<typeof instrumentedStore>[2]) => {
    const opened = instrumentedStore(table, clock, options)
    closers.push(() => opened.store.close())
    return opened
  }
  const rawPartition = async (pk: string) =>
    (
      await admin.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ConsistentRead: true,
        }),
      )
    ).Items ?? []
  const dueKeys = async () => (await rawPartition('ALERTS_DUE')).map((item) => item.sk?.S)
  const dueSk = (at: number, id: string) => `${String(at).padStart(13, '0')}#${id}`

  beforeEach(async () => {
    table = await freshTable()
    clock = new ManualClock(ALERT_NOW)
  })

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await dropTable(table)
  })

  it('keeps deliveries, their due entries and mutes under their own keys, out of the GSI', async () => {
    const { store } = open()
    const pending = delivery({ slot: SLOT, customerId: 'acme', channel: 'slack' })
    const done = delivery({ slot: SLOT, customerId: 'acme', channel: 'webhook', status: 'delivered' })
    await store.alerts.enqueue([pending, done])
    await store.alerts.putMute({
      id: 'm1',
      customerId: null,
      metric: 'api_calls',
      until: ALERT_NOW + HOUR,
      reason: null,
      createdAt: ALERT_NOW,
    })
    const indexed = await admin.send(
      new ScanCommand({ TableName: table, IndexName: 'metric-severity-index' }),
    )
    expect(indexed.Items).toEqual([])
    const all = (await admin.send(new ScanCommand({ TableName: table }))).Items ?? []
    expect(all.map((item) => `${item.pk?.S} ${item.sk?.S}`).sort()).toEqual(
      [
        `ALERTS ${pending.id}`,
        `ALERTS ${done.id}`,
        `ALERTS_DUE ${dueSk(ALERT_NOW, pending.id)}`,
        'MUTES m1',
      ].sort(),
    )
    const raw = (id: string) => all.find((item) => item.pk?.S === 'ALERTS' && item.sk?.S === id)
    expect(JSON.parse(String(raw(pending.id)?.alert_json?.S))).toStrictEqual(pending.alert)
    // Settled deliveries expire after the retention; pending ones never do.
    expect(raw(pending.id)?.ttl).toBeUndefined()
    expect(raw(done.id)?.ttl).toEqual({ N: String(Math.floor(ALERT_NOW / 1000) + 90 * 86_400) })
    const entry = all.find((item) => item.pk?.S === 'ALERTS_DUE')
    expect(entry?.nonce).toEqual(raw(pending.id)?.due_nonce)
    expect(all.find((item) => item.pk?.S === 'MUTES')?.ttl).toEqual({
      N: String((ALERT_NOW + HOUR) / 1000 + 7 * 86_400),
    })
  })

  it('moves the due entry with every change of a pending delivery and drops it when it leaves pending', async () => {
    const { store } = open()
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    await store.alerts.enqueue([d])
    const claimed = { ...d, attempts: 1, nextAttemptAt: ALERT_NOW + MINUTE }
    expect(await store.alerts.update(claimed, d)).toBe(true)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + MINUTE, d.id)])
    // Same due time, other attempts: the entry is re-written in place, not dropped.
    const same = { ...claimed, attempts: 2 }
    expect(await store.alerts.update(same, claimed)).toBe(true)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + MINUTE, d.id)])
    const failed = { ...same, status: 'failed' as const, lastError: 'HTTP 400' }
    expect(await store.alerts.update(failed, same)).toBe(true)
    expect(await dueKeys()).toEqual([])
    const requeued = {
      ...failed,
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAt: ALERT_NOW + 2 * MINUTE,
    }
    expect(await store.alerts.update(requeued, failed)).toBe(true)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + 2 * MINUTE, d.id)])
    expect(await store.alerts.due(ALERT_NOW + 2 * MINUTE, 10)).toStrictEqual([requeued])
  })

  it('leaves no entry behind for a losing claim, and keeps the winner’s when both chose the same time', async () => {
    const { store } = open()
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    await store.alerts.enqueue([d])
    const winner = { ...d, attempts: 1, nextAttemptAt: ALERT_NOW + MINUTE }
    expect(await store.alerts.update(winner, d)).toBe(true)
    expect(await store.alerts.update({ ...winner, nextAttemptAt: ALERT_NOW + 2 * MINUTE }, d)).toBe(false)
    expect(await store.alerts.update(winner, d)).toBe(false)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + MINUTE, d.id)])
    expect(await store.alerts.due(ALERT_NOW + MINUTE, 10)).toStrictEqual([winner])
    // An update of an unknown id writes nothing at all.
    const unknown = delivery({ slot: SLOT, customerId: 'z', channel: 'slack' })
    expect(await store.alerts.update(unknown, unknown)).toBe(false)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + MINUTE, d.id)])
  })

  it('never loses a pending delivery when the process dies between the entry and the delivery write', async () => {
    // Dies before a `crash` command to the deliveries' partition (input not marshalled yet here), or a DeleteItem.
    let crash: string | null = 'PutItem'
    const { store } = open({
      crash: (command, input) =>
        command === crash &&
        (command === 'DeleteItem' ||
          ((input.Item ?? input.Key) as Record<string, unknown> | undefined)?.pk === 'ALERTS'),
    })
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    await expect(store.alerts.enqueue([d])).rejects.toBeInstanceOf(StoreError)
    // The entry came first: an extra entry, never a pending delivery without one.
    expect(await store.alerts.get(d.id)).toBeNull()
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW, d.id)])
    expect(await store.alerts.due(ALERT_NOW, 10)).toEqual([])
    // Young unconfirmed entries may belong to a writer between its two writes: they stay.
    expect(await dueKeys()).toHaveLength(1)
    crash = null
    expect(await store.alerts.enqueue([d])).toBe(1)
    expect(await store.alerts.due(ALERT_NOW, 10)).toStrictEqual([d])

    // A claim that dies after its entry: the delivery is still due at its old time.
    crash = 'UpdateItem'
    const claimed = { ...d, attempts: 1, nextAttemptAt: ALERT_NOW + MINUTE }
    await expect(store.alerts.update(claimed, d)).rejects.toBeInstanceOf(StoreError)
    expect(await store.alerts.due(ALERT_NOW, 10)).toStrictEqual([d])
    expect(await dueKeys()).toHaveLength(2)
    // A claim that dies after the delivery write, before dropping the old entry: done all the same.
    crash = 'DeleteItem'
    expect(await store.alerts.update(claimed, d)).toBe(true)
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW, d.id), dueSk(ALERT_NOW + MINUTE, d.id)])
    expect(await store.alerts.due(ALERT_NOW, 10)).toEqual([])
    expect(await store.alerts.due(ALERT_NOW + MINUTE, 10)).toStrictEqual([claimed])
    // Once old enough, entries the deliveries do not confirm are deleted by due().
    crash = null
    clock.ms = ALERT_NOW + 11 * MINUTE
    expect(await store.alerts.due(clock.ms, 10)).toStrictEqual([claimed])
    expect(await dueKeys()).toEqual([dueSk(ALERT_NOW + MINUTE, d.id)])
  })

  it('enqueues an alert storm with bounded parallel requests, and a replay writes nothing', async () => {
    const { store, sent, concurrency } = open()
    const storm = Array.from({ length: 300 }, (_, i) =>
      delivery({
        slot: SLOT,
        customerId: `c${String(i).padStart(3, '0')}`,
        channel: 'pagerduty',
        nextAttemptAt: ALERT_NOW - i,
      }),
    )
    expect(await store.alerts.enqueue(storm)).toBe(300)
    const count = (command: string) => sent.filter((s) => s.command === command).length
    expect([count('BatchGetItem'), count('BatchWriteItem'), count('PutItem')]).toEqual([3, 12, 300])
    expect(concurrency.max).toBeLessThanOrEqual(16)
    expect(concurrency.max).toBeGreaterThan(1)
    const due = await store.alerts.due(ALERT_NOW, 500)
    expect(due.map((d) => d.id)).toEqual([...storm].reverse().map((d) => d.id))
    sent.length = 0
    expect(await store.alerts.enqueue(storm)).toBe(0)
    expect(sent.map((s) => s.command)).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem'])
  })

  it('reads only due entries: the delivered history is never read by due()', async () => {
    const { store, sent } = open()
    const history = Array.from({ length: 50 }, (_, i) =>
      delivery({ slot: SLOT - i * HOUR, customerId: `h${i}`, channel: 'slack', status: 'delivered' }),
    )
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    await store.alerts.enqueue([...history, d])
    sent.length = 0
    expect(await store.alerts.due(ALERT_NOW, 100)).toStrictEqual([d])
    expect(sent.map((s) => s.command)).toEqual(['Query', 'BatchGetItem'])
  })

  it('round-trips alert payloads exactly, whatever their numbers and strings', async () => {
    const { store } = open()
    const base = delivery({ slot: SLOT, customerId: 'ünïcødé 🚀', channel: 'webhook' })
    const d = {
      ...base,
      lastError: '',
      alert: {
        kind: 'digest' as const,
        id: base.alert.id,
        severity: 'warning' as const,
        createdAt: SLOT,
        title: '',
        link: 'https://example.com/v1/incidents?x=1&y=2',
        digest: {
          from: SLOT - 7 * 24 * HOUR,
          to: SLOT,
          opened: 0,
          resolved: 2 ** 53 + 2,
          stillOpen: 1e300,
          incidents: [
            {
              id: 'i|m|t',
              customerId: 'c',
              metric: 'm',
              status: 'resolved' as const,
              severity: 'critical' as const,
              direction: 'drop' as const,
              openedAt: SLOT,
              resolvedAt: null,
              peakZScore: -1e-12,
              openedBySignal: 'volume' as const,
              firingSignals: [],
            },
          ],
        },
      },
    }
    await store.alerts.enqueue([d])
    expect(await store.alerts.get(d.id)).toStrictEqual(d)
    expect((await store.alerts.list({ limit: 1 })).items).toStrictEqual([d])
  })

  it('pages through a sparse filtered listing, every match exactly once', async () => {
    const { store } = open()
    const all = Array.from({ length: 60 }, (_, i) =>
      delivery({
        slot: SLOT - i * HOUR,
        customerId: `c${i}`,
        channel: i % 20 === 7 ? 'email' : 'slack',
        status: i % 20 === 7 ? 'failed' : 'delivered',
      }),
    )
    await store.alerts.enqueue(all)
    const expected = all.filter((d) => d.channel === 'email').map((d) => d.id)
    const walked: string[] = []
    let cursor: string | undefined
    do {
      const page = await store.alerts.list({ channel: 'email', status: 'failed', limit: 1, cursor })
      walked.push(...page.items.map((d) => d.id))
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    expect(walked).toEqual(expected)
  })

  it('refuses bad input as ValidationErrors before writing anything', async () => {
    const { store, sent } = open()
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    const fields = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ValidationError)
      return (err as ValidationError).details.map((x) => x.field)
    }
    const alert = d.alert as IncidentAlert
    const badAlert = { ...d, alert: { ...alert, detection: { ...alert.detection, zScore: Number.NaN } } }
    expect(await fields(store.alerts.enqueue([badAlert]))).toEqual(['alert'])
    expect(await fields(store.alerts.enqueue([{ ...d, nextAttemptAt: -1 }]))).toEqual(['next_attempt_at'])
    expect(await fields(store.alerts.enqueue([{ ...d, id: '' }]))).toEqual(['id'])
    expect(await fields(store.alerts.enqueue([{ ...d, attempts: 1.5 }]))).toEqual(['attempts'])
    expect(await fields(store.alerts.due(ALERT_NOW, 0))).toEqual(['limit'])
    const incidentCursor = Buffer.from(JSON.stringify({ k: 'incidents', v: ['x'] })).toString('base64url')
    expect(await fields(store.alerts.list({ limit: 1, cursor: incidentCursor }))).toEqual(['cursor'])
    const emptyCursor = Buffer.from(JSON.stringify({ k: 'alerts', v: [''] })).toString('base64url')
    expect(await fields(store.alerts.list({ limit: 1, cursor: emptyCursor }))).toEqual(['cursor'])
    expect(sent).toEqual([])
    expect(await store.alerts.get('')).toBeNull()
    expect(await store.alerts.deleteMute('')).toBe(false)
  })

  it('counts a mute past its ttl as gone, whether or not TTL has swept it', async () => {
    const { store } = open()
    const mute = {
      id: 'm1',
      customerId: 'acme',
      metric: null,
      until: ALERT_NOW - HOUR,
      reason: null,
      createdAt: 0,
    }
    await store.alerts.putMute(mute)
    await store.alerts.putMute({ ...mute, id: 'm2' })
    expect(await store.alerts.activeMutes(ALERT_NOW)).toEqual([])
    // Recently expired: still there to delete.
    expect(await store.alerts.deleteMute('m1')).toBe(true)
    clock.ms = ALERT_NOW + 8 * 24 * HOUR
    expect(await store.alerts.deleteMute('m2')).toBe(false)
  })

  it('surfaces SDK failures of alert operations as StoreErrors naming the operation and the table', async () => {
    const missing = `${table}-missing`
    const { store } = instrumentedStore(missing, clock)
    closers.push(() => store.close())
    const d = delivery({ slot: SLOT, customerId: 'a', channel: 'slack' })
    await expect(store.alerts.enqueue([d])).rejects.toThrow(/failed to enqueue alerts \(table .*-missing\)/)
    await expect(store.alerts.due(ALERT_NOW, 1)).rejects.toThrow(/failed to read due alerts/)
    await expect(store.alerts.update(d, d)).rejects.toThrow(/failed to update an alert/)
    await expect(store.alerts.list({ limit: 1 })).rejects.toThrow(/failed to list alerts/)
    await expect(store.alerts.activeMutes(ALERT_NOW)).rejects.toBeInstanceOf(StoreError)
    await expect(store.acknowledgeIncident('x', ALERT_NOW, null)).rejects.toThrow(
      /failed to acknowledge an incident/,
    )
    await store.close()
    await expect(store.alerts.get(d.id)).rejects.toThrow(/closed/)
  })
})

describe('incident acknowledgement on dynalite', () => {
  let table: string

  beforeEach(async () => {
    table = await freshTable()
  })

  afterEach(async () => {
    await dropTable(table)
  })

  it('writes detections with UpdateItem so the acknowledgement survives, also through resolution', async () => {
    const { store, sent } = instrumentedStore(table, new ManualClock(NOW))
    try {
      const id = incidentId('c1', 'api_calls', SLOT - HOUR)
      const open = incident({ id, customerId: 'c1', metric: 'api_calls', openedAt: SLOT - HOUR })
      await store.saveIncidents([open])
      expect(sent.filter((s) => s.command === 'PutItem')).toEqual([])
      await store.acknowledgeIncident(id, NOW, null)
      const resolved = { ...open, status: 'resolved' as const, resolvedAt: SLOT, lastEvaluatedSlot: SLOT }
      expect(await store.saveIncidents([resolved])).toEqual([id])
      expect(await store.getIncident(id)).toStrictEqual({
        ...resolved,
        acknowledgedAt: NOW,
        acknowledgedBy: null,
      })
      // An id the domain did not make is found by searching the partition.
      const other = incident({ id: 'custom-id', customerId: 'c2', metric: 'api_calls', openedAt: SLOT })
      await store.saveIncidents([other])
      expect(await store.acknowledgeIncident('custom-id', NOW, 'bob')).toStrictEqual({
        ...other,
        acknowledgedAt: NOW,
        acknowledgedBy: 'bob',
      })
      expect(await store.acknowledgeIncident(incidentId('c9', 'api_calls', SLOT), NOW, 'bob')).toBeNull()
      await expect(store.acknowledgeIncident(id, Number.NaN, null)).rejects.toBeInstanceOf(ValidationError)
    } finally {
      await store.close()
    }
  })
})

describe('incident feedback and customer detector settings on dynalite', () => {
  let table: string
  let clock: ManualClock
  const closers: (() => Promise<void>)[] = []

  const open = (options?: Parameters<typeof instrumentedStore>[2]) => {
    const opened = instrumentedStore(table, clock, options)
    closers.push(() => opened.store.close())
    return opened
  }
  const rawGet = async (pk: string, sk: string) =>
    (await admin.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item
  const labelEntries = async () =>
    (
      (
        await admin.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: 'INCIDENT_LABELS' } },
            ConsistentRead: true,
          }),
        )
      ).Items ?? []
    ).map((item) => item.sk?.S)
  const planned = { label: 'planned' as const, at: NOW, by: 'ops', note: 'load test' }

  beforeEach(async () => {
    table = await freshTable()
    clock = new ManualClock(NOW)
  })

  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    await dropTable(table)
  })

  it('stores the label on the incident item, indexes it, and lists labelled incidents without reading the rest', async () => {
    const { store, sent } = open()
    const incidents = Array.from({ length: 30 }, (_, i) =>
      incident({
        id: incidentId(`c${i}`, 'api_calls', SLOT - i * HOUR),
        customerId: `c${i}`,
        metric: 'api_calls',
        openedAt: SLOT - i * HOUR,
      }),
    )
    await store.saveIncidents(incidents)
    const labelled = incidents[3] as (typeof incidents)[number]
    expect(await store.setIncidentFeedback(labelled.id, planned)).toStrictEqual({
      ...labelled,
      feedback: planned,
    })
    const sk = '2025-03-10T09:00:00.000Z#c3#api_calls'
    const raw = await rawGet('INCIDENT', sk)
    expect([raw?.feedback_label, raw?.feedback_at, raw?.feedback_by, raw?.feedback_note]).toEqual([
      { S: 'planned' },
      { N: String(NOW) },
      { S: 'ops' },
      { S: 'load test' },
    ])
    expect(raw?.metric).toBeUndefined()
    expect(await labelEntries()).toEqual([sk])
    // The index entry stays out of the GSI like every non-anomaly item.
    const indexed = await admin.send(
      new ScanCommand({ TableName: table, IndexName: 'metric-severity-index' }),
    )
    expect(indexed.Items).toEqual([])

    sent.length = 0
    expect(await store.labelledIncidents(SLOT - DAY)).toStrictEqual([{ ...labelled, feedback: planned }])
    expect(sent.map((s) => s.command)).toEqual(['Query', 'BatchGetItem'])

    // Resolution by a detection write (UpdateItem) keeps the label, and the period decides.
    const resolved = { ...labelled, status: 'resolved' as const, resolvedAt: SLOT, lastEvaluatedSlot: SLOT }
    expect(await store.saveIncidents([resolved])).toEqual([labelled.id])
    expect(await store.labelledIncidents(SLOT)).toStrictEqual([{ ...resolved, feedback: planned }])
    expect(await store.labelledIncidents(SLOT + 1)).toEqual([])
    // A label without by or note stores NULLs; relabelling writes the same entry again.
    const bare = { label: 'false_positive' as const, at: NOW + 1, by: null, note: null }
    expect((await store.setIncidentFeedback(labelled.id, bare))?.feedback).toStrictEqual(bare)
    expect((await rawGet('INCIDENT', sk))?.feedback_note).toEqual({ NULL: true })
    expect(await labelEntries()).toEqual([sk])
    const blank = { ...bare, by: '', note: '' }
    expect((await store.setIncidentFeedback(labelled.id, blank))?.feedback).toStrictEqual(blank)
  })

  it('leaves an incident unlabelled when the process dies between the entry and the label; a retry completes', async () => {
    let crash = true
    const { store } = open({
      crash: (command, input) =>
        crash && command === 'UpdateItem' && String(input.UpdateExpression).includes('#label'),
    })
    const open1 = incident({ id: 'i-1', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - HOUR })
    await store.saveIncidents([open1])
    await expect(store.setIncidentFeedback('i-1', planned)).rejects.toThrow(
      /failed to record incident feedback/,
    )
    expect(await labelEntries()).toHaveLength(1)
    expect((await store.getIncident('i-1'))?.feedback).toBeNull()
    expect(await store.labelledIncidents(0)).toEqual([])
    crash = false
    expect((await store.setIncidentFeedback('i-1', planned))?.feedback).toStrictEqual(planned)
    expect((await store.labelledIncidents(0)).map((i) => i.id)).toEqual(['i-1'])
    expect(await labelEntries()).toHaveLength(1)
  })

  it('deletes the entry of an incident that is gone (TTL) when listing', async () => {
    const { store } = open()
    const gone = incident({ id: 'i-gone', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 100 * DAY })
    const kept = incident({ id: 'i-kept', customerId: 'c2', metric: 'api_calls', openedAt: SLOT - DAY })
    await store.saveIncidents([gone, kept])
    await store.setIncidentFeedback('i-gone', planned)
    await store.setIncidentFeedback('i-kept', planned)
    expect(await labelEntries()).toHaveLength(2)
    const goneSk = `${new Date(gone.openedAt).toISOString()}#c1#api_calls`
    await admin.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'INCIDENT' }, sk: { S: goneSk } } }),
    )
    expect((await store.labelledIncidents(0)).map((i) => i.id)).toEqual(['i-kept'])
    expect(await labelEntries()).toEqual([`${new Date(kept.openedAt).toISOString()}#c2#api_calls`])
    expect(await store.setIncidentFeedback('i-gone', planned)).toBeNull()
  })

  it('stores detector settings as a map with the API names; older items read as without settings', async () => {
    const { store } = open()
    const tuned = customer({
      customerId: 'c1',
      detector: { statistic: 'robust', windows: ['hour'], levelShiftDays: 3, minVolume: 0.5, persistRuns: 2 },
    })
    await store.putCustomer(tuned)
    expect((await rawGet('CUSTOMERS', 'c1'))?.detector).toEqual({
      M: {
        statistic: { S: 'robust' },
        windows: { L: [{ S: 'hour' }] },
        level_shift_days: { N: '3' },
        min_volume: { N: '0.5' },
        persist_runs: { N: '2' },
      },
    })
    expect(await store.getCustomer('c1')).toStrictEqual(tuned)
    await store.putCustomer(customer({ customerId: 'c2', detector: {} }))
    expect((await store.getCustomer('c2'))?.detector).toStrictEqual({})

    const legacy = (pk: string, sk: string, attributes: Record<string, AttributeValue>) =>
      admin.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: sk }, ...attributes } }),
      )
    await legacy('CUSTOMERS', 'old', {
      customer_id: { S: 'old' },
      status: { S: 'active' },
      updated_at: { N: String(NOW) },
    })
    expect(await store.getCustomer('old')).toStrictEqual(customer({ customerId: 'old' }))
    await legacy('CUSTOMERS', 'bad', {
      customer_id: { S: 'bad' },
      status: { S: 'active' },
      updated_at: { N: String(NOW) },
      detector: { M: { baseline: { S: 'fortnight' } } },
    })
    await expect(store.getCustomer('bad')).rejects.toThrow(/attribute detector.baseline is not one of/)
    await legacy('CUSTOMERS', 'bad-window', {
      customer_id: { S: 'bad-window' },
      status: { S: 'active' },
      updated_at: { N: String(NOW) },
      detector: { M: { persist_window: { N: '25' } } },
    })
    await expect(store.getCustomer('bad-window')).rejects.toThrow(
      /attribute detector.persist_window is not an integer in 1..24/,
    )
  })

  it('refuses bad feedback and detector settings as ValidationErrors before sending anything', async () => {
    const { store, sent } = open()
    const fields = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ValidationError)
      return (err as ValidationError).details.map((d) => d.field)
    }
    const label = 'wrong' as 'planned'
    expect(await fields(store.setIncidentFeedback('i', { ...planned, label }))).toEqual(['label'])
    expect(await fields(store.setIncidentFeedback('i', { ...planned, at: Number.NaN }))).toEqual([
      'feedback_at',
    ])
    const bad = customer({
      customerId: 'c1',
      detector: {
        statistic: 'median' as 'robust',
        windows: ['week' as 'day'],
        minVolume: Number.POSITIVE_INFINITY,
        levelShiftDays: 1.5,
        persistRuns: 25,
      },
    })
    expect(await fields(store.putCustomer(bad))).toEqual([
      'detector.statistic',
      'detector.windows',
      'detector.level_shift_days',
      'detector.min_volume',
      'detector.persist_runs',
    ])
    const noWindows = customer({ customerId: 'c2', detector: { windows: [] } })
    expect(await fields(store.putCustomer(noWindows))).toEqual(['detector.windows'])
    expect(sent).toEqual([])
  })

  it('surfaces SDK failures as StoreErrors naming the operation and the table', async () => {
    const { store } = instrumentedStore(`${table}-missing`, clock)
    closers.push(() => store.close())
    await expect(store.setIncidentFeedback('i', planned)).rejects.toThrow(
      /failed to record incident feedback \(table .*-missing\)/,
    )
    await expect(store.labelledIncidents(0)).rejects.toThrow(
      /failed to list labelled incidents \(table .*-missing\)/,
    )
  })
})
