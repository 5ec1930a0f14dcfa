import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import { classifyById, type UsageEvent } from '../../domain/events.js'
import { IdempotencyKeyReusedError } from '../../errors.js'
import type { IdempotencyKey, InsertResult } from '../../ports.js'
import { withStoreError } from './errors.js'
import { BATCH_KEY, EVENT_KEY, keyedBatchPrefix, nextPrefix, tsvField, UNNAMED_KEY } from './ledger-keys.js'
import { completeLegacyBatch, type PayloadRow } from './legacy-batch.js'
import { LEDGER_BATCH_DAYS, LEDGER_EVENT_ROW } from './migrations.js'
import { selectRows } from './select.js'

/** Batch rows older than this are not read (see LEDGER_BATCH_DAYS): Idempotency-Keys are honoured this long. */
export const LEDGER_TRUSTED_DAYS = LEDGER_BATCH_DAYS - 1
const TRUSTED = `created_at >= now64(3) - INTERVAL ${LEDGER_TRUSTED_DAYS} DAY`
const PENDING = 0
const COMMITTED = 1

interface Batch {
  batchId: string
  events: readonly UsageEvent[]
  /** '' without an Idempotency-Key. */
  idempotencyKey: string
  fingerprint: string
}

/** What a batch writes to the ledger (`payload` is left empty: it only holds batches written before migration 5). */
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
] as const

/** The batch's own ledger row; the commit row keeps the key and fingerprint, since it replaces the pending row. */
function batchRow(batch: Batch, state: number): unknown[] {
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
  ]
}

/** An event's ledger row: `e:<id>`, or `n:<batch>:<position>` for an event without an id (expires with the batch). */
function eventRow(batchId: string, position: number, e: UsageEvent): unknown[] {
  const key = e.eventId === null ? `${UNNAMED_KEY}${batchId}:${position}` : EVENT_KEY + e.eventId
  return [key, batchId, COMMITTED, e.customerId, e.metric, e.timestampMs, e.value, '', '']
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
 * 1. one insert into `ingest_ledger` of the batch's pending row and one row per event (`e:<id>`, or `n:<batch>:<i>`
 *    without an id): one block, one part, so the batch's intent and its ids are there together or not at all. The
 *    ledger's materialized views (migration 5) write the raw events, the hourly rollup and first-seen from that
 *    block in the same insert, after the ledger's part is committed, each view's part keyed by the insert's
 *    deduplication token;
 * 2. the commit row, which rides in the next batch's insert (or is written when the store closes or repairs).
 * A batch found pending (a crash, or a failed write, between 1 and 2) is completed by inserting its event rows, read
 * back from the ledger, again with the same token: the ledger drops the block as a duplicate, and each view adds
 * only the parts it lacks. This happens before the store is read or written again, and whenever a retry meets one
 * of its event ids. Writers in one process are serialized by the caller; see the README (Ingest semantics) for what
 * holds across processes.
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

  /**
   * The last batch this process stored whole, whose commit row is not written yet: it goes into the next batch's
   * intent block (or flush()). Until then the ledger shows the batch pending; completing it after a crash adds
   * nothing (every part is there: the re-insert is dropped as a duplicate) and writes the commit row.
   */
  private uncommitted: Batch | null = null

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
        events: fresh,
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
    const { batchId, events } = batch
    const rows: unknown[][] = [batchRow(batch, PENDING)]
    // The previous batch's commit row rides in this block: one insert per batch instead of two.
    if (this.uncommitted) rows.push(batchRow(this.uncommitted, COMMITTED))
    events.forEach((e, position) => {
      rows.push(eventRow(batchId, position, e))
    })
    await this.whileDerivedWrite(events, () => this.insertIntent(batchId, rows))
    this.uncommitted = batch
  }

  /** Writes the commit row of the batch this process stored last, if it is still owed. */
  async flush(): Promise<void> {
    const batch = this.uncommitted
    if (!batch) return
    await this.insertRows(
      'ingest_ledger',
      LEDGER_COLUMNS,
      [batchRow(batch, COMMITTED)],
      `${batch.batchId}:commit`,
    )
    this.uncommitted = null
  }

  /** The intent block (or, completing a batch, its event rows again), with the views' parts deduplicated. */
  private insertIntent(batchId: string, rows: readonly unknown[][]): Promise<void> {
    return this.insertRows('ingest_ledger', LEDGER_COLUMNS, rows, `${batchId}:intent`, {
      deduplicate_blocks_in_dependent_materialized_views: 1,
    })
  }

  private async whileDerivedWrite(
    events: readonly { customerId: string; metric: string }[],
    write: () => Promise<void>,
  ): Promise<void> {
    const done = this.beforeDerivedWrite(new Set(events.map((e) => `${e.customerId}\u0000${e.metric}`)))
    try {
      await write()
    } finally {
      done()
    }
  }

  private async complete(batchId: string): Promise<void> {
    // Stored whole by this process (its insert returned), only its commit row is owed.
    if (this.uncommitted?.batchId === batchId) return this.flush()
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
    const batch = { batchId, events: [], idempotencyKey: row.idempotency_key, fingerprint: row.fingerprint }
    if (row.payload !== '') {
      const payload = JSON.parse(row.payload) as PayloadRow[]
      await this.whileDerivedWrite(
        payload.map(([customerId, metric]) => ({ customerId, metric })),
        () =>
          completeLegacyBatch(batchId, payload, (table, columns, values, token) =>
            this.insertRows(table, columns, values, token),
          ),
      )
    } else {
      const events = await this.select<{
        key: string
        customer_id: string
        metric: string
        ts_ms: string | number
        value: number
      }>(
        'read the events of a half-stored batch',
        `SELECT key, customer_id, metric, ts_ms, value FROM {db:Identifier}.ingest_ledger
         WHERE batch_id = {batch:String} AND ${LEDGER_EVENT_ROW} LIMIT 1 BY key`,
        { batch: batchId },
      )
      const rowsAgain = events.map((e) => [
        e.key,
        batchId,
        COMMITTED,
        e.customer_id,
        e.metric,
        Number(e.ts_ms),
        Number(e.value),
        '',
        '',
      ])
      await this.whileDerivedWrite(
        events.map((e) => ({ customerId: e.customer_id, metric: e.metric })),
        () => this.insertIntent(batchId, rowsAgain),
      )
    }
    await this.insertRows('ingest_ledger', LEDGER_COLUMNS, [batchRow(batch, COMMITTED)], `${batchId}:commit`)
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

  /**
   * The stored event of each id in the batch; ids of a still pending batch complete that batch first. The ids travel
   * as one String parameter read by `format()`, not as an `Array(String)` parameter: the engine stops using the sort
   * key for `key IN {array}` once that array passes about 1 MB (measured: 10,000 ids of 130 characters scanned a
   * 1M-row ledger in 190 s, while 918 KB read no granule), and binding a large array costs more than parsing the
   * same ids as TSV. Through `format()` the set keeps using the sort key at any size (EXPLAIN: 0/123 granules at
   * 1.3 MB), so a batch needs one look-up whatever the ids' length.
   */
  private async storedIds(events: readonly UsageEvent[]): Promise<Map<string, UsageEvent>> {
    const keys = events.flatMap((e) => (e.eventId === null ? [] : [EVENT_KEY + e.eventId]))
    if (keys.length === 0) return new Map()
    const rows = await this.select<StoredId>(
      'look up stored event ids',
      `SELECT key, batch_id, customer_id, metric, ts_ms, value FROM {db:Identifier}.ingest_ledger
       WHERE key IN (SELECT key FROM format(TabSeparated, 'key String', {keys:String})) LIMIT 1 BY key`,
      { keys: keys.map(tsvField).join('\n') },
    )
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
    settings: Record<string, number> = {},
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
          ...settings,
        },
      }),
    )
  }

  private select<T>(what: string, query: string, params: Record<string, unknown>): Promise<T[]> {
    return selectRows<T>(this.client, this.database, what, query, params)
  }
}
