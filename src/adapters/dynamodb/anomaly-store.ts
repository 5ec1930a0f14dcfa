import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import type { AnomalyQuery, AnomalyRecord, Page } from '../../domain/anomaly.js'
import type { CustomerProfile } from '../../domain/customer.js'
import { FEEDBACK_LABELS, type Incident, type IncidentFeedback } from '../../domain/incident.js'
import { DEFAULT_ANOMALY_SORT, DEFAULT_INCIDENT_SORT } from '../../domain/list-sorts.js'
import type { DetectionRun } from '../../domain/run.js'
import { SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import { StoreError } from '../../errors.js'
import type {
  AlertStore,
  AnomalyStore,
  ApiKeyStore,
  Clock,
  IncidentQuery,
  RunQuery,
  ShardStore,
} from '../../ports.js'
import {
  CUSTOMER_INTEGERS,
  CUSTOMER_REALS,
  checkNumbers,
  INCIDENT_INTEGERS,
  INCIDENT_REALS,
  RUN_INTEGERS,
  RUN_REALS,
} from '../store-args/numbers.js'
// Store-agnostic argument checks and cursors shared with the SQLite store, so both refuse and page alike.
import {
  ANOMALY_KEY,
  checkLimit,
  checkOneOf,
  checkTime,
  decodeCursor,
  encodeCursor,
  RUN_KEY,
  sortedCursorKind,
} from '../store-args/paging.js'
import { DynamoDbAlertStore } from './alert-store.js'
import {
  anomalyQueryPlan,
  checkAnomalyItems,
  checkAnomalyQuery,
  checkKeySort,
  dedupeAnomalies,
  INCIDENT_SORT_NAMES,
} from './anomaly-query.js'
import { DynamoDbApiKeyStore } from './api-key-store.js'
import { batchGetAll, batchWriteAll, DEFAULT_RETRY, type RetryOptions, type WriteRequest } from './batch.js'
import { createDocumentClient, createDynamoDbClient, wrapError } from './client.js'
import { checkDetector } from './customer-detector.js'
import { labelledIncidents, setIncidentFeedback } from './incident-labels.js'
import {
  acknowledgeIncident,
  findIncident,
  INCIDENT_CURSOR,
  incidentListPlan,
  openIncidentsInput,
  putIncidents,
} from './incidents.js'
import {
  anomalyItem,
  customerItem,
  itemToAnomaly,
  itemToCustomer,
  itemToIncident,
  itemToRun,
} from './items.js'
import {
  anomalyKey,
  CUSTOMERS_PK,
  checkKeyTime,
  customerKey,
  type Key,
  PK,
  runLookupKey,
  SK,
  TTL,
} from './keys.js'
import { collectPage, getItem, queryAll, type TableContext } from './query.js'
import { runCursorKey, runListInput, writeRun } from './runs.js'
import { DynamoDbShardStore } from './shard-store.js'

export interface DynamoDbAnomalyStoreOptions {
  table: string
  clock: Clock
  /** Retries of UnprocessedItems / UnprocessedKeys in batch calls. */
  retry?: Partial<RetryOptions>
  /** Called once by close(), e.g. to destroy a client the store owns. */
  onClose?: () => void
}

export interface OpenDynamoDbOptions {
  table: string
  region: string
  endpoint?: string
  clock: Clock
  /** The AWS credential variables present (config.awsCredentialEnv); see createDynamoDbClient. */
  env?: Readonly<Record<string, string | undefined>>
}

const INCIDENT_STATUSES: readonly string[] = ['open', 'resolved']

/**
 * The production anomaly store: one DynamoDB table with the seed's anomaly items and GSI, shared by incidents,
 * runs, the customer registry and the alert outbox under their own partition keys (see keys.ts). Same behaviour
 * as the SQLite store; writes are idempotent so a replayed run changes nothing.
 */
export class DynamoDbAnomalyStore implements AnomalyStore, TableContext {
  readonly table: string
  readonly alerts: AlertStore
  /** Anomalies are keyed by customer, or by metric in the GSI: the app merges a query per metric. */
  readonly listsAcrossMetrics = false
  readonly apiKeys: ApiKeyStore
  readonly shards: ShardStore
  private readonly clock: Clock
  private readonly retry: RetryOptions
  private readonly onClose: (() => void) | undefined
  private closed = false

  constructor(
    readonly doc: DynamoDBDocumentClient,
    options: DynamoDbAnomalyStoreOptions,
  ) {
    this.table = options.table
    this.clock = options.clock
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.onClose = options.onClose
    this.alerts = new DynamoDbAlertStore({
      doc,
      table: this.table,
      clock: this.clock,
      retry: this.retry,
      run: (what, operation) => this.run(what, operation),
    })
    this.apiKeys = new DynamoDbApiKeyStore({
      doc,
      table: this.table,
      run: (what, operation) => this.run(what, operation),
    })
    this.shards = new DynamoDbShardStore({
      doc,
      table: this.table,
      retry: this.retry,
      run: (what, operation) => this.run(what, operation),
    })
  }

  /** Connects and checks that the table exists (create it with `meterflow dynamodb create-table`). */
  static async open(options: OpenDynamoDbOptions): Promise<DynamoDbAnomalyStore> {
    const client = createDynamoDbClient(options)
    try {
      await client.send(new DescribeTableCommand({ TableName: options.table }))
    } catch (err) {
      client.destroy()
      throw wrapError('open the anomaly store', options.table, err)
    }
    return new DynamoDbAnomalyStore(createDocumentClient(client), {
      table: options.table,
      clock: options.clock,
      onClose: () => client.destroy(),
    })
  }

  async putAnomalies(records: readonly AnomalyRecord[]): Promise<number> {
    if (records.length === 0) return 0
    checkAnomalyItems(records)
    const unique = dedupeAnomalies(records)
    const nowS = this.nowSeconds()
    return this.run('store anomalies', async () => {
      const keys = unique.map((r) => anomalyKey(r.customerId, r.detectedAt, r.metric, r.kind))
      const stored = await batchGetAll(this.doc, this.table, keys, [PK, SK, TTL], this.retry)
      // An item past its ttl is not stored as far as callers can tell (DynamoDB deletes it lazily, queries
      // hide it): a record with its identity replaces it and counts as new.
      const live = new Set(
        stored.filter((item) => !(typeof item[TTL] === 'number' && item[TTL] < nowS)).map(keyString),
      )
      const fresh = unique.filter((_, i) => !live.has(keyString(keys[i] as Key)))
      const puts: WriteRequest[] = fresh.map((r) => ({ PutRequest: { Item: anomalyItem(r) } }))
      await batchWriteAll(this.doc, this.table, puts, this.retry)
      return fresh.length
    })
  }

  async queryAnomalies(query: AnomalyQuery): Promise<Page<AnomalyRecord>> {
    checkAnomalyQuery(query)
    const limit = checkLimit(query.limit)
    const kind = sortedCursorKind('anomalies', query.sort, DEFAULT_ANOMALY_SORT)
    const after = query.cursor === undefined ? null : decodeCursor(kind, ANOMALY_KEY, query.cursor)
    const plan = anomalyQueryPlan(this.table, query, after, this.nowSeconds())
    if (plan === null) return { items: [], nextCursor: null }
    const { items, more } = await this.run('query anomalies', () =>
      collectPage(this.doc, plan.input, limit, plan.startKey, plan.readAhead),
    )
    const records = items.map(itemToAnomaly)
    const last = records[records.length - 1]
    return {
      items: records,
      nextCursor:
        more && last ? encodeCursor(kind, [last.detectedAt, last.metric, last.customerId, last.kind]) : null,
    }
  }

  async openIncidents(): Promise<Incident[]> {
    const items = await this.run('list open incidents', () =>
      queryAll(this.doc, openIncidentsInput(this.table)),
    )
    return items.map(itemToIncident)
  }

  async saveIncidents(incidents: readonly Incident[]): Promise<string[]> {
    if (incidents.length === 0) return []
    checkNumbers('incidents', incidents, INCIDENT_INTEGERS, INCIDENT_REALS)
    incidents.forEach((i, index) => {
      checkKeyTime('opened_at', i.openedAt, index)
    })
    return this.run('save incidents', () =>
      putIncidents({ doc: this.doc, table: this.table, clock: this.clock }, incidents),
    )
  }

  async getIncident(id: string): Promise<Incident | null> {
    const item = await this.run('read an incident', () => findIncident(this, id))
    return item ? itemToIncident(item) : null
  }

  async listIncidents(query: IncidentQuery): Promise<Page<Incident>> {
    const limit = checkLimit(query.limit)
    checkOneOf('status', query.status, INCIDENT_STATUSES)
    checkOneOf('severity', query.severity, ['warning', 'critical'])
    checkTime('opened_since', query.openedSince)
    checkTime('opened_until', query.openedUntil)
    checkOneOf('kind', query.kind, SIGNAL_KINDS)
    checkKeySort('incidents', query.sort, INCIDENT_SORT_NAMES)
    const kind = sortedCursorKind('incidents', query.sort, DEFAULT_INCIDENT_SORT)
    const after = query.cursor === undefined ? null : decodeCursor(kind, INCIDENT_CURSOR, query.cursor)
    const plan = incidentListPlan(this.table, query, after ? after[0] : null)
    const { items, more } = await this.run('list incidents', () =>
      collectPage(this.doc, plan.input, limit, plan.startKey, plan.readAhead),
    )
    const last = items[items.length - 1]
    return {
      items: items.map(itemToIncident),
      nextCursor: more && last ? encodeCursor(kind, [String(last[SK])]) : null,
    }
  }

  async acknowledgeIncident(id: string, at: number, by: string | null): Promise<Incident | null> {
    checkKeyTime('acknowledged_at', at)
    const item = await this.run('acknowledge an incident', () => acknowledgeIncident(this, id, at, by))
    return item ? itemToIncident(item) : null
  }

  async setIncidentFeedback(id: string, feedback: IncidentFeedback): Promise<Incident | null> {
    checkOneOf('label', feedback.label, FEEDBACK_LABELS)
    checkKeyTime('feedback_at', feedback.at)
    const item = await this.run('record incident feedback', () => setIncidentFeedback(this, id, feedback))
    return item ? itemToIncident(item) : null
  }

  /** A Query of the labelled-incident index and a BatchGetItem per 100 of them (see incident-labels.ts). */
  async labelledIncidents(since: number): Promise<Incident[]> {
    return this.run('list labelled incidents', () => labelledIncidents(this, since, this.retry))
  }

  async saveRun(run: DetectionRun): Promise<void> {
    checkNumbers('run', [run], RUN_INTEGERS, RUN_REALS, false)
    checkKeyTime('slot', run.slot)
    checkKeyTime('started_at', run.startedAt)
    await this.run('save a run', () => writeRun(this, run, this.retry))
  }

  async getRun(runId: string): Promise<DetectionRun | null> {
    const item = await this.run('read a run', () => getItem(this, runLookupKey(runId)))
    return item ? itemToRun(item) : null
  }

  async listRuns(query: RunQuery): Promise<Page<DetectionRun>> {
    const limit = checkLimit(query.limit)
    const after = query.cursor === undefined ? null : decodeCursor('runs', RUN_KEY, query.cursor)
    const startKey = after ? runCursorKey(after) : undefined
    const { items, more } = await this.run('list runs', () =>
      collectPage(this.doc, runListInput(this.table), limit, startKey, 1),
    )
    const runs = items.map(itemToRun)
    const last = runs[runs.length - 1]
    return {
      items: runs,
      nextCursor: more && last ? encodeCursor('runs', [last.slot, last.startedAt, last.runId]) : null,
    }
  }

  async getCustomer(customerId: string): Promise<CustomerProfile | null> {
    const item = await this.run('read a customer', () => getItem(this, customerKey(customerId)))
    return item ? itemToCustomer(item) : null
  }

  async putCustomer(profile: CustomerProfile): Promise<void> {
    checkNumbers('customer', [profile], CUSTOMER_INTEGERS, CUSTOMER_REALS, false)
    checkDetector(profile.detector)
    await this.run('save a customer', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: customerItem(profile) })),
    )
  }

  async listCustomers(): Promise<CustomerProfile[]> {
    const items = await this.run('list customers', () =>
      queryAll(this.doc, {
        TableName: this.table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':pk': CUSTOMERS_PK },
        ConsistentRead: true,
      }),
    )
    return items.map(itemToCustomer)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.onClose?.()
  }

  // ---- Internals -------------------------------------------------------------------------------------------

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000)
  }

  /** Runs one operation, turning whatever the SDK throws into a StoreError naming the operation and table. */
  private async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (this.closed)
      throw new StoreError(`DynamoDB anomaly store is closed (table ${this.table}): cannot ${what}`)
    try {
      return await operation()
    } catch (err) {
      throw wrapError(what, this.table, err)
    }
  }
}

function keyString(key: Record<string, unknown>): string {
  return `${String(key[PK])}\u0000${String(key[SK])}`
}
