import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { AnomalyQuery, AnomalyRecord, Page } from '../../domain/anomaly.js'
import type { CustomerProfile } from '../../domain/customer.js'
import type { Incident, IncidentFeedback } from '../../domain/incident.js'
import { type DetectionRun, firstFutureSlot } from '../../domain/run.js'
import { MeterFlowError, StoreError } from '../../errors.js'
import type { AnomalyStore, Clock, IncidentQuery, RunQuery } from '../../ports.js'
import {
  CUSTOMER_INTEGERS,
  CUSTOMER_REALS,
  checkAnomalyRecords,
  checkNumbers,
  INCIDENT_INTEGERS,
  INCIDENT_REALS,
  RUN_INTEGERS,
  RUN_REALS,
} from '../store-args/numbers.js'
import { checkLimit, decodeCursor, encodeCursor, RUN_KEY, toPage } from '../store-args/paging.js'
import { SqliteAlertStore } from './alert-store.js'
import { SqliteApiKeyStore } from './api-key-store.js'
import { anomalyListQuery, incidentListQuery } from './list-queries.js'
import {
  type AnomalyRow,
  anomalyToRow,
  type CustomerRow,
  customerToRow,
  type IncidentReadRow,
  incidentToRow,
  type RunRow,
  rowToAnomaly,
  rowToCustomer,
  rowToIncident,
  rowToRun,
  runToRow,
} from './rows.js'
import {
  ANOMALY_COLUMNS,
  CUSTOMER_COLUMNS,
  INCIDENT_COLUMNS,
  migrate,
  RUN_COLUMNS,
  upsertSql,
} from './schema.js'
import { SqliteShardStore } from './shard-store.js'

export interface SqliteAnomalyStoreOptions {
  /** How long a statement waits for another connection's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number
}

/** Expired anomalies are deleted by the first write after this much clock time since the last sweep. */
export const PURGE_INTERVAL_MS = 60_000

/**
 * The embedded anomaly store: one SQLite file (better-sqlite3, synchronous, so every method's work is atomic
 * with respect to this process's event loop). The same logical model as the seed's DynamoDB table.
 */
export class SqliteAnomalyStore implements AnomalyStore {
  private lastPurgeMs = Number.NEGATIVE_INFINITY
  private readonly cache = new Map<string, Database.Statement>()
  private readonly insertAnomaly: Database.Statement
  private readonly upsertIncident: Database.Statement
  private readonly upsertRun: Database.Statement
  private readonly upsertCustomer: Database.Statement
  private readonly purgeExpired: Database.Statement
  readonly alerts: SqliteAlertStore
  /** One table: any filters, any order (see list-queries.ts). */
  readonly listsAcrossMetrics = true
  readonly apiKeys: SqliteApiKeyStore
  readonly shards: SqliteShardStore

  private constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    readonly path: string,
  ) {
    // A row whose ttl has passed is not stored as far as callers can tell (queries hide it), so a record with
    // its identity replaces it and counts as new, whether or not the sweep has deleted it yet.
    this.insertAnomaly = db.prepare(
      upsertSql(
        'anomalies',
        ANOMALY_COLUMNS,
        ['customer_id', 'detected_at', 'metric', 'kind'],
        'anomalies.ttl < @now_s',
      ),
    )
    // A replayed or late write must not roll an incident back.
    this.upsertIncident = db.prepare(
      upsertSql(
        'incidents',
        INCIDENT_COLUMNS,
        ['id'],
        'excluded.last_evaluated_slot > incidents.last_evaluated_slot OR incidents.last_evaluated_slot >= @first_future_slot',
      ),
    )
    this.upsertRun = db.prepare(upsertSql('runs', RUN_COLUMNS, ['run_id']))
    this.upsertCustomer = db.prepare(upsertSql('customers', CUSTOMER_COLUMNS, ['customer_id']))
    this.purgeExpired = db.prepare('DELETE FROM anomalies WHERE ttl < ?')
    this.alerts = new SqliteAlertStore(db, (what, operation) => this.run(what, operation))
    this.apiKeys = new SqliteApiKeyStore(db, (what, operation) => this.run(what, operation))
    this.shards = new SqliteShardStore(db, clock, (what, operation) => this.run(what, operation))
  }

  /** Opens (creating the file and its directory if needed) and migrates the store at `path`. */
  static open(path: string, clock: Clock, options: SqliteAnomalyStoreOptions = {}): SqliteAnomalyStore {
    let db: Database.Database | undefined
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 })
      // WAL: readers (the dashboard, the API) never block the detection run's writes, nor it them.
      db.pragma('journal_mode = WAL')
      // FULL, not NORMAL: in WAL mode NORMAL already survives a process crash (a commit is in the OS's page
      // cache when it returns), but an OS crash or power loss can roll back the latest commits, and a lost
      // commit after its alert went out means the replayed run alerts again. FULL fsyncs the WAL on every
      // commit; writes here are a few batched transactions per hourly run, so the cost is negligible.
      db.pragma('synchronous = FULL')
      migrate(db, clock.now())
      return new SqliteAnomalyStore(db, clock, path)
    } catch (err) {
      db?.close()
      const message = `SQLite failed to open the anomaly store at ${path}: ${(err as Error).message}`
      throw new StoreError(message, [], { cause: err })
    }
  }

  async putAnomalies(records: readonly AnomalyRecord[]): Promise<number> {
    if (records.length === 0) return 0
    checkAnomalyRecords(records)
    const nowS = this.nowSeconds()
    return this.run('store anomalies', () =>
      this.db
        .transaction(() => {
          this.purgeIfDue()
          let added = 0
          for (const record of records) {
            added += this.insertAnomaly.run({ ...anomalyToRow(record), now_s: nowS }).changes
          }
          return added
        })
        .immediate(),
    )
  }

  async queryAnomalies(query: AnomalyQuery): Promise<Page<AnomalyRecord>> {
    const { sql, params, limit, cursorOf } = anomalyListQuery(query, this.nowSeconds())
    const rows = this.run('query anomalies', () => this.statement(sql).all(params)) as AnomalyRow[]
    return toPage(rows, limit, rowToAnomaly, (r) => cursorOf(r as unknown as Record<string, unknown>))
  }

  async openIncidents(): Promise<Incident[]> {
    const rows = this.run('list open incidents', () =>
      this.statement(`SELECT * FROM incidents WHERE status = 'open' ORDER BY opened_at DESC, id`).all(),
    ) as IncidentReadRow[]
    return rows.map(rowToIncident)
  }

  async saveIncidents(incidents: readonly Incident[]): Promise<string[]> {
    if (incidents.length === 0) return []
    checkNumbers('incidents', incidents, INCIDENT_INTEGERS, INCIDENT_REALS)
    return this.run('save incidents', () =>
      this.db
        .transaction(() => {
          const written = new Set<string>()
          for (const incident of incidents) {
            const row = { ...incidentToRow(incident), first_future_slot: firstFutureSlot(this.clock.now()) }
            if (this.upsertIncident.run(row).changes > 0) written.add(incident.id)
          }
          return [...written]
        })
        .immediate(),
    )
  }

  async getIncident(id: string): Promise<Incident | null> {
    const row = this.run('read an incident', () =>
      this.statement('SELECT * FROM incidents WHERE id = ?').get(id),
    ) as IncidentReadRow | undefined
    return row ? rowToIncident(row) : null
  }

  async listIncidents(query: IncidentQuery): Promise<Page<Incident>> {
    const { sql, params, limit, cursorOf } = incidentListQuery(query)
    const rows = this.run('list incidents', () => this.statement(sql).all(params)) as IncidentReadRow[]
    return toPage(rows, limit, rowToIncident, (r) => cursorOf(r as unknown as Record<string, unknown>))
  }

  async saveRun(run: DetectionRun): Promise<void> {
    checkNumbers('run', [run], RUN_INTEGERS, RUN_REALS, false)
    this.run('save a run', () =>
      this.db
        .transaction(() => {
          // Runs are written every hour whether or not they find anything: the expiry sweep rides along.
          this.purgeIfDue()
          this.upsertRun.run(runToRow(run))
        })
        .immediate(),
    )
  }

  async getRun(runId: string): Promise<DetectionRun | null> {
    const row = this.run('read a run', () =>
      this.statement('SELECT * FROM runs WHERE run_id = ?').get(runId),
    ) as RunRow | undefined
    return row ? rowToRun(row) : null
  }

  async listRuns(query: RunQuery): Promise<Page<DetectionRun>> {
    const limit = checkLimit(query.limit)
    const after = query.cursor === undefined ? null : decodeCursor('runs', RUN_KEY, query.cursor)
    const where = ['1 = 1']
    const params: Record<string, unknown> = { limit: limit + 1 }
    if (after) {
      where.push(
        'slot <= @c_slot',
        `(slot < @c_slot OR (slot = @c_slot AND (started_at < @c_started_at
          OR (started_at = @c_started_at AND run_id > @c_run_id))))`,
      )
      ;[params.c_slot, params.c_started_at, params.c_run_id] = after
    }
    const rows = this.run('list runs', () =>
      this.statement(
        `SELECT * FROM runs WHERE ${where.join(' AND ')}
         ORDER BY slot DESC, started_at DESC, run_id LIMIT @limit`,
      ).all(params),
    ) as RunRow[]
    return toPage(rows, limit, rowToRun, (r) => encodeCursor('runs', [r.slot, r.started_at, r.run_id]))
  }

  async getCustomer(customerId: string): Promise<CustomerProfile | null> {
    return this.run('read a customer', () => {
      const row = this.statement('SELECT * FROM customers WHERE customer_id = ?').get(customerId) as
        | CustomerRow
        | undefined
      return row ? rowToCustomer(row) : null
    })
  }

  async putCustomer(profile: CustomerProfile): Promise<void> {
    checkNumbers('customer', [profile], CUSTOMER_INTEGERS, CUSTOMER_REALS, false)
    this.run('save a customer', () => this.upsertCustomer.run(customerToRow(profile)))
  }

  async listCustomers(): Promise<CustomerProfile[]> {
    return this.run('list customers', () =>
      (this.statement('SELECT * FROM customers ORDER BY customer_id').all() as CustomerRow[]).map(
        rowToCustomer,
      ),
    )
  }

  async acknowledgeIncident(id: string, at: number, by: string | null): Promise<Incident | null> {
    const row = this.run('acknowledge an incident', () =>
      this.statement(
        'UPDATE incidents SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? RETURNING *',
      ).get(at, by, id),
    ) as IncidentReadRow | undefined
    return row ? rowToIncident(row) : null
  }

  async setIncidentFeedback(id: string, feedback: IncidentFeedback): Promise<Incident | null> {
    const row = this.run('record incident feedback', () =>
      this.statement(
        `UPDATE incidents SET feedback_label = ?, feedback_at = ?, feedback_by = ?, feedback_note = ?
         WHERE id = ? RETURNING *`,
      ).get(feedback.label, feedback.at, feedback.by, feedback.note, id),
    ) as IncidentReadRow | undefined
    return row ? rowToIncident(row) : null
  }

  async labelledIncidents(since: number): Promise<Incident[]> {
    const rows = this.run('list labelled incidents', () =>
      this.statement(
        `SELECT * FROM incidents WHERE feedback_label IS NOT NULL
           AND (status = 'open' OR resolved_at IS NULL OR resolved_at >= ?)`,
      ).all(since),
    ) as IncidentReadRow[]
    return rows.map(rowToIncident)
  }

  async close(): Promise<void> {
    if (!this.db.open) return
    this.run('close', () => {
      try {
        this.db.pragma('optimize')
      } finally {
        this.db.close()
      }
    })
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000)
  }

  /** Deletes expired anomalies, at most once per PURGE_INTERVAL_MS of clock time; call inside a write. */
  private purgeIfDue(): void {
    const now = this.clock.now()
    if (now - this.lastPurgeMs < PURGE_INTERVAL_MS && now >= this.lastPurgeMs) return
    this.purgeExpired.run(Math.floor(now / 1000))
    this.lastPurgeMs = now
  }

  /** Queries are built from a handful of optional filters: prepare each shape once. */
  private statement(sql: string): Database.Statement {
    let statement = this.cache.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.cache.set(sql, statement)
    }
    return statement
  }

  /** Runs one operation, turning whatever SQLite throws (busy, full, corrupt, closed) into a StoreError. */
  private run<T>(what: string, operation: () => T): T {
    try {
      return operation()
    } catch (err) {
      if (err instanceof MeterFlowError) throw err
      throw new StoreError(
        `SQLite anomaly store failed to ${what} (${this.path}): ${(err as Error).message}`,
        [],
        {
          cause: err,
        },
      )
    }
  }
}
