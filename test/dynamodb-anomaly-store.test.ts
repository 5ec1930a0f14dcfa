import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
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
import { incidentId } from '../src/domain/incident.js'
import { ConflictError, StoreError, ValidationError } from '../src/errors.js'
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

describeAnomalyStoreContract('DynamoDB (dynalite)', async (clock) => {
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
})

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
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '')
      const input = args.input as Record<string, unknown>
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
  return { store, client, sent }
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
      incident_id: { S: record.incidentId },
      run_id: { S: record.runId },
    })
    const other = await rawGet('CUSTOMER#cust-1', `ANOMALY#${SLOT}#api_calls`)
    expect(other?.incident_id).toEqual({ NULL: true })
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
