import { createHash, randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import { classifyById, type UsageEvent } from '../../domain/events.js'
import { HOUR_MS } from '../../domain/time.js'
import { IdempotencyKeyReusedError } from '../../errors.js'
import type { IdempotencyKey, InsertResult } from '../../ports.js'
import { clickhouseTime, withStoreError } from './errors.js'
import { LEDGER_BATCH_DAYS } from './migrations.js'
import { selectRows } from './select.js'

/** Batch rows older than this are not read (see LEDGER_BATCH_DAYS): Idempotency-Keys are honoured this long. */
export const LEDGER_TRUSTED_DAYS = LEDGER_BATCH_DAYS - 1
const TRUSTED = `created_at >= now64(3) - INTERVAL ${LEDGER_TRUSTED_DAYS} DAY`
const PENDING = 0
const COMMITTED = 1
const EVENT_KEY = 'e:'
const BATCH_KEY = 'b:'

/** One event in a batch's payload: [customer, metric, timestamp ms, value, event id or '']. */
type PayloadRow = [string, string, number, number, string]

interface Batch {
  batchId: string
  payload: readonly PayloadRow[]
  /** '' without an Idempotency-Key. */
  idempotencyKey: string
  fingerprint: string
}

const LEDGER_COLUMNS = [
  'key',
  'batch_id',
  'state',
  'customer_id',
  'metric',
  'ts_ms',
  'value',
  'idempotency_key',
  'fingerprint',
  'payload',
] as const
const RAW_COLUMNS = ['customer_id', 'metric', 'ts', 'value', 'event_id', 'batch_id'] as const
const HOURLY_COLUMNS = ['metric', 'customer_id', 'hour', 'sum_value', 'max_value', 'events'] as const
const FIRST_SEEN_COLUMNS = ['metric', 'customer_id', 'first_hour'] as const

/** The batch's own ledger row; the commit row keeps the key and fingerprint, since it replaces the pending row. */
function batchRow(batch: Batch, state: number, payload: string): unknown[] {
  return [
    BATCH_KEY + batch.batchId,
    batch.batchId,
    state,
    '',
    '',
    0,
    0,
    batch.idempotencyKey,
    batch.fingerprint,
    payload,
  ]
}

interface StoredId {
  key: string
  batch_id: string
  customer_id: string
  metric: string
  ts_ms: string | number
  value: number
}

/**
 * How a batch is stored so that a crash at any instant, plus a retry, leaves every table exact:
 * 1. one insert into `ingest_ledger` of the batch's intent (its rows as a payload) and of its event ids: one
 *    block, so both or neither are there;
 * 2. the raw events, the hourly rollup and first-seen, each one insert whose deduplication token is derived from
 *    the batch id, so that writing them again drops the blocks already written;
 * 3. the commit row.
 * A batch found pending (a crash, or a failed write, between 1 and 3) is completed from its payload before the
 * store is read or written again, and whenever a retry meets one of its event ids. Writers in one process are
 * serialized by the caller; see the README (Ingest semantics) for what holds across processes.
 */
export class IngestLedger {
  /**
   * `beforeDerivedWrite` hears the series (`customer\u0000metric`) of every write of the raw, rollup and first-seen
   * tables before it starts, and is called back when it is over (kept reads of them must go).
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly beforeDerivedWrite: (series: Set<string>) => () => void = () => () => undefined,
  ) {}

  async insert(events: readonly UsageEvent[], idempotency?: IdempotencyKey): Promise<InsertResult> {
    const prior = idempotency ? await this.keyedBatch(keyedBatchPrefix(idempotency)) : null
    // A keyed batch's id also carries its creation time: the same key used again after the ledger stopped trusting
    // the first batch (LEDGER_TRUSTED_DAYS) is a new batch with its own rows and insert tokens. Reusing the first
    // one's tokens would let the engine drop the new inserts as duplicates while the reply says stored.
    const batchId = idempotency ? `${keyedBatchPrefix(idempotency)}${Date.now()}` : randomUUID()
    if (idempotency && prior && prior.fingerprint !== idempotency.fingerprint) {
      throw new IdempotencyKeyReusedError(
        'this Idempotency-Key was used for a different request: use a new key for new data',
        [{ field: 'Idempotency-Key', reason: 'already used with a different body' }],
      )
    }
    if (prior?.state === PENDING) await this.complete(prior.batchId)

    const { fresh, duplicates, conflicts } = classifyById(
      events,
      await this.storedIds(events),
      prior !== null,
    )
    if (prior) return { inserted: 0, alreadyStored: duplicates, conflicts, replayed: true }
    if (fresh.length > 0 || idempotency) {
      await this.write({
        batchId,
        payload: fresh.map((e) => [e.customerId, e.metric, e.timestampMs, e.value, e.eventId ?? '']),
        idempotencyKey: idempotency?.key ?? '',
        fingerprint: idempotency?.fingerprint ?? '',
      })
    }
    return { inserted: fresh.length, alreadyStored: duplicates, conflicts, replayed: false }
  }

  /** Completes every pending batch; returns how many. */
  async repair(): Promise<number> {
    const rows = await this.select<{ batch_id: string }>(
      'find half-stored batches',
      `SELECT batch_id FROM {db:Identifier}.ingest_ledger
       WHERE key >= {lo:String} AND key < {hi:String} AND ${TRUSTED}
       GROUP BY batch_id HAVING max(state) = ${PENDING}`,
      { lo: BATCH_KEY, hi: nextPrefix(BATCH_KEY) },
    )
    for (const row of rows) await this.complete(row.batch_id)
    return rows.length
  }

  private async write(batch: Batch): Promise<void> {
    const intent: unknown[][] = [batchRow(batch, PENDING, JSON.stringify(batch.payload))]
    for (const [customer, metric, tsMs, value, eventId] of batch.payload) {
      if (eventId !== '')
        intent.push([
          EVENT_KEY + eventId,
          batch.batchId,
          COMMITTED,
          customer,
          metric,
          tsMs,
          value,
          '',
          '',
          '',
        ])
    }
    await this.insertRows('ingest_ledger', LEDGER_COLUMNS, intent, `${batch.batchId}:intent`)
    await this.writeDerived(batch)
  }

  /** Raw events, rollup, first-seen, then the commit row: the same inserts, with the same tokens, every time. */
  private async writeDerived(batch: Batch): Promise<void> {
    const done = this.beforeDerivedWrite(
      new Set(batch.payload.map(([customer, metric]) => `${customer}\u0000${metric}`)),
    )
    try {
      await this.insertDerived(batch)
    } finally {
      done()
    }
  }

  private async insertDerived(batch: Batch): Promise<void> {
    const { batchId, payload } = batch
    const hourly = new Map<
      string,
      [metric: string, customer: string, hour: number, sum: number, max: number, events: number]
    >()
    const firstSeen = new Map<string, [metric: string, customer: string, firstHour: number]>()
    const raw: unknown[][] = []
    for (const [customer, metric, tsMs, value, eventId] of payload) {
      raw.push([customer, metric, clickhouseTime(tsMs), value, eventId, batchId])
      const hour = Math.floor(tsMs / HOUR_MS) * (HOUR_MS / 1000)
      const cellKey = `${metric}\u0000${customer}\u0000${hour}`
      const cell = hourly.get(cellKey)
      if (cell) {
        cell[3] += value
        cell[4] = Math.max(cell[4], value)
        cell[5] += 1
      } else hourly.set(cellKey, [metric, customer, hour, value, value, 1])
      const seriesKey = `${metric}\u0000${customer}`
      const first = firstSeen.get(seriesKey)
      if (!first) firstSeen.set(seriesKey, [metric, customer, hour])
      else if (hour < first[2]) first[2] = hour
    }
    await this.insertRows('usage_events', RAW_COLUMNS, raw, `${batchId}:raw`)
    await this.insertRows('usage_hourly', HOURLY_COLUMNS, [...hourly.values()], `${batchId}:hourly`)
    await this.insertRows('usage_first_seen', FIRST_SEEN_COLUMNS, [...firstSeen.values()], `${batchId}:first`)
    await this.insertRows(
      'ingest_ledger',
      LEDGER_COLUMNS,
      [batchRow(batch, COMMITTED, '')],
      `${batchId}:commit`,
    )
  }

  private async complete(batchId: string): Promise<void> {
    const rows = await this.select<{
      payload: string
      state: number
      idempotency_key: string
      fingerprint: string
    }>(
      'read a half-stored batch',
      `SELECT payload, state, idempotency_key, fingerprint FROM {db:Identifier}.ingest_ledger
       WHERE key = {key:String} AND ${TRUSTED} ORDER BY state LIMIT 1`,
      { key: BATCH_KEY + batchId },
    )
    const row = rows[0]
    if (!row || Number(row.state) !== PENDING) return
    await this.writeDerived({
      batchId,
      payload: JSON.parse(row.payload) as PayloadRow[],
      idempotencyKey: row.idempotency_key,
      fingerprint: row.fingerprint,
    })
  }

  /** The newest trusted batch of an Idempotency-Key (its ids all start with `prefix`), or null. */
  private async keyedBatch(
    prefix: string,
  ): Promise<{ batchId: string; state: number; fingerprint: string } | null> {
    const rows = await this.select<{ batch_id: string; top: number; fingerprint: string }>(
      'look up an idempotency key',
      `SELECT batch_id, max(state) AS top, any(fingerprint) AS fingerprint FROM {db:Identifier}.ingest_ledger
       WHERE key >= {lo:String} AND key < {hi:String} AND ${TRUSTED}
       GROUP BY batch_id ORDER BY batch_id DESC LIMIT 1`,
      { lo: BATCH_KEY + prefix, hi: BATCH_KEY + nextPrefix(prefix) },
    )
    const row = rows[0]
    return row ? { batchId: row.batch_id, state: Number(row.top), fingerprint: row.fingerprint } : null
  }

  /** The stored event of each id in the batch; ids of a still pending batch complete that batch first. */
  private async storedIds(events: readonly UsageEvent[]): Promise<Map<string, UsageEvent>> {
    const keys = events.flatMap((e) => (e.eventId === null ? [] : [EVENT_KEY + e.eventId]))
    if (keys.length === 0) return new Map()
    const rows: StoredId[] = []
    for (const chunk of keyChunks(keys)) {
      rows.push(
        ...(await this.select<StoredId>(
          'look up stored event ids',
          `SELECT key, batch_id, customer_id, metric, ts_ms, value FROM {db:Identifier}.ingest_ledger
           WHERE key IN {keys:Array(String)} LIMIT 1 BY key`,
          { keys: chunk },
        )),
      )
    }
    const batches = [...new Set(rows.map((r) => r.batch_id).filter((b) => b !== ''))]
    if (batches.length > 0) {
      const pending = await this.select<{ batch_id: string }>(
        'check the batches of stored event ids',
        `SELECT batch_id FROM {db:Identifier}.ingest_ledger WHERE key IN {keys:Array(String)} AND ${TRUSTED}
         GROUP BY batch_id HAVING max(state) = ${PENDING}`,
        { keys: batches.map((b) => BATCH_KEY + b) },
      )
      for (const row of pending) await this.complete(row.batch_id)
    }
    return new Map(
      rows.map((r) => [
        r.key.slice(EVENT_KEY.length),
        {
          eventId: r.key.slice(EVENT_KEY.length),
          customerId: r.customer_id,
          metric: r.metric,
          timestampMs: Number(r.ts_ms),
          value: Number(r.value),
        },
      ]),
    )
  }

  private async insertRows(
    table: string,
    columns: readonly [string, ...string[]],
    rows: readonly unknown[][],
    token: string,
  ): Promise<void> {
    if (rows.length === 0) return
    await withStoreError(`store a batch in ${table}`, () =>
      this.client.insert({
        table: `${this.database}.${table}`,
        columns: [...columns] as [string, ...string[]],
        values: rows as unknown[][],
        format: 'JSONCompactEachRow',
        clickhouse_settings: {
          insert_deduplication_token: token,
          max_partitions_per_insert_block: '1000',
        },
      }),
    )
  }

  private select<T>(what: string, query: string, params: Record<string, unknown>): Promise<T[]> {
    return selectRows<T>(this.client, this.database, what, query, params)
  }
}

/**
 * The engine stops using the sort key for `key IN {array}` once the array parameter passes about 1 MB (measured:
 * 10,000 ids of 100 characters went from 30 ms to a full scan, 14 s at 150k stored ids and growing): look ids up
 * in chunks well below that.
 */
const LOOKUP_CHUNK_BYTES = 256 * 1024

function* keyChunks(keys: readonly string[]): Generator<string[]> {
  let chunk: string[] = []
  let bytes = 0
  for (const key of keys) {
    if (chunk.length > 0 && bytes + key.length > LOOKUP_CHUNK_BYTES) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(key)
    bytes += key.length + 4
  }
  if (chunk.length > 0) yield chunk
}

/** The same caller's Idempotency-Key names the same batches in every process: their ids start with this. */
function keyedBatchPrefix({ scope, key }: IdempotencyKey): string {
  return `k-${createHash('sha256').update(`${scope}\n${key}`).digest('hex').slice(0, 40)}.`
}

/** The smallest string above every string starting with `prefix` (its last character plus one). */
function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}
