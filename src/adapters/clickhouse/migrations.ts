import type { ClickHouseClient } from '@clickhouse/client'
import { MeterFlowError } from '../../errors.js'

export interface Migration {
  version: number
  name: string
  statements: string[]
}

// Every insert of a batch carries a token derived from the batch, so that completing a half-written batch drops
// the blocks already written (block deduplication needs a window on each table); fsync so that an acknowledged
// insert survives a crash.
const DURABLE = 'non_replicated_deduplication_window = 1000, fsync_after_insert = 1, fsync_part_directory = 1'
const DEDUPLICATION_WINDOW = 10_000
/**
 * Batch rows (payloads, Idempotency-Keys) expire after this many days. TTL removes a batch's pending and commit
 * rows in separate merges, so readers trust only rows younger than LEDGER_TRUSTED_DAYS (ingest-ledger.ts): a
 * pending row whose commit row has already expired must never look like a batch to complete.
 */
export const LEDGER_BATCH_DAYS = 7
/**
 * The ledger's event rows written with a batch: `e:<event id>`, and `n:<batch id>:<position>` for an event without an
 * id. Migration 4's backfill of stored ids has no batch: were it ever run after migration 5 (two processes migrating
 * at once), the views must not count those events again.
 */
export const LEDGER_EVENT_ROW = "(startsWith(key, 'e:') OR startsWith(key, 'n:')) AND batch_id != ''"
/** An event row's hour, as the rollup keys it. */
const LEDGER_HOUR = "toDateTime(intDiv(ts_ms, 3600000) * 3600, 'UTC')"

/** Append-only: never edit a shipped migration, add a new one. Every statement is idempotent. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'usage events and hourly rollup',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_events (
        customer_id String,
        metric LowCardinality(String),
        ts DateTime64(3, 'UTC'),
        value Float64,
        event_id String,
        ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
        INDEX idx_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 4
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (metric, customer_id, ts)
      SETTINGS ${DURABLE}`,
      `CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_hourly (
        metric LowCardinality(String),
        customer_id String,
        hour DateTime('UTC'),
        sum_value SimpleAggregateFunction(sum, Float64),
        max_value SimpleAggregateFunction(max, Float64),
        events SimpleAggregateFunction(sum, UInt64)
      ) ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(hour)
      ORDER BY (metric, customer_id, hour)
      SETTINGS ${DURABLE}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_hourly_mv TO {db:Identifier}.usage_hourly AS
      SELECT metric, customer_id, toStartOfHour(ts) AS hour,
        sum(value) AS sum_value, max(value) AS max_value, count() AS events
      FROM {db:Identifier}.usage_events
      GROUP BY metric, customer_id, hour`,
    ],
  },
  {
    version: 2,
    name: 'metric registry',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db:Identifier}.metrics (
        name String,
        aggregation LowCardinality(String),
        description String,
        unit String,
        registered_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(registered_at)
      ORDER BY name`,
    ],
  },
  {
    version: 3,
    name: 'first hour seen per customer and metric',
    statements: [
      // Baseline samples start at a series' first hour; keeping it per series spares the batched job a scan
      // of all history. min() is idempotent, so the backfill may overlap inserts that race with it.
      `CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_first_seen (
        metric LowCardinality(String),
        customer_id String,
        first_hour SimpleAggregateFunction(min, DateTime('UTC'))
      ) ENGINE = AggregatingMergeTree
      ORDER BY (metric, customer_id)
      SETTINGS ${DURABLE}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_first_seen_mv TO {db:Identifier}.usage_first_seen AS
      SELECT metric, customer_id, min(toStartOfHour(ts)) AS first_hour
      FROM {db:Identifier}.usage_events
      GROUP BY metric, customer_id`,
      `INSERT INTO {db:Identifier}.usage_first_seen
      SELECT metric, customer_id, min(hour) FROM {db:Identifier}.usage_hourly GROUP BY metric, customer_id`,
    ],
  },
  {
    version: 4,
    name: 'ingest ledger; derived tables written with their batch',
    statements: [
      // Materialized views commit after the raw part, so a crash between the two left the rollup short for good;
      // the ingest path now writes every derived table itself, each insert keyed by its batch (ingest-ledger.ts).
      'DROP VIEW IF EXISTS {db:Identifier}.usage_hourly_mv',
      'DROP VIEW IF EXISTS {db:Identifier}.usage_first_seen_mv',
      `ALTER TABLE {db:Identifier}.usage_events ADD COLUMN IF NOT EXISTS batch_id String DEFAULT ''`,
      // Room for repair: a half-written batch is completed with the same insert tokens, which must still be known.
      ...['usage_events', 'usage_hourly', 'usage_first_seen'].map(
        (table) =>
          `ALTER TABLE {db:Identifier}.${table} MODIFY SETTING non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`,
      ),
      // One table for a batch's intent (its rows, to complete it after a crash) and its event ids, so that both
      // arrive in one insert: one block, one part, all or nothing. `state` 0 = pending, 1 = committed; the commit
      // row replaces the pending one (and its payload) at merge time. Event-id rows are kept for ever.
      `CREATE TABLE IF NOT EXISTS {db:Identifier}.ingest_ledger (
        key String,
        batch_id String,
        state UInt8,
        customer_id String,
        metric String,
        ts_ms Int64,
        value Float64,
        idempotency_key String,
        fingerprint String,
        payload String CODEC(ZSTD(3)),
        created_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(state)
      ORDER BY key
      TTL toDateTime(created_at) + INTERVAL ${LEDGER_BATCH_DAYS} DAY DELETE WHERE startsWith(key, 'b:')
      SETTINGS ${DURABLE}`,
      // Ids stored before the ledger existed stay idempotency keys.
      `INSERT INTO {db:Identifier}.ingest_ledger (key, batch_id, state, customer_id, metric, ts_ms, value)
      SELECT concat('e:', event_id), '', 1, customer_id, metric, toUnixTimestamp64Milli(ts), value
      FROM {db:Identifier}.usage_events WHERE event_id != ''`,
    ],
  },
  {
    version: 5,
    name: 'derived tables written by the ledger insert',
    statements: [
      // The ledger's insert now carries every event of a batch (ingest-ledger.ts) and these views write the raw
      // events, the rollup and first-seen from it in the same insert; a crash before the commit row is repaired by
      // inserting the batch's rows again with the same token (the views add only the parts they lack).
      `ALTER TABLE {db:Identifier}.ingest_ledger MODIFY SETTING non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`,
      // Completing a batch reads its event rows by batch id, which is not in the sort key.
      'ALTER TABLE {db:Identifier}.ingest_ledger ADD INDEX IF NOT EXISTS idx_batch_id batch_id TYPE bloom_filter(0.01) GRANULARITY 1',
      // Rows of events without an id (`n:<batch>:<i>`) are only needed to complete their batch: they expire with it.
      `ALTER TABLE {db:Identifier}.ingest_ledger MODIFY TTL toDateTime(created_at) + INTERVAL ${LEDGER_BATCH_DAYS} DAY
        DELETE WHERE startsWith(key, 'b:') OR startsWith(key, 'n:')`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.ledger_events_mv TO {db:Identifier}.usage_events AS
      SELECT customer_id, metric, fromUnixTimestamp64Milli(ts_ms, 'UTC') AS ts, value,
        if(startsWith(key, 'e:'), substring(key, 3), '') AS event_id, batch_id
      FROM {db:Identifier}.ingest_ledger WHERE ${LEDGER_EVENT_ROW}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.ledger_hourly_mv TO {db:Identifier}.usage_hourly AS
      SELECT metric, customer_id, ${LEDGER_HOUR} AS hour,
        sum(value) AS sum_value, max(value) AS max_value, count() AS events
      FROM {db:Identifier}.ingest_ledger WHERE ${LEDGER_EVENT_ROW}
      GROUP BY metric, customer_id, hour`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.ledger_first_seen_mv TO {db:Identifier}.usage_first_seen AS
      SELECT metric, customer_id, min(${LEDGER_HOUR}) AS first_hour
      FROM {db:Identifier}.ingest_ledger WHERE ${LEDGER_EVENT_ROW}
      GROUP BY metric, customer_id`,
    ],
  },
]

/** What `migrate` reports around each migration it applies (the CLI prints it). */
export type MigrationStep =
  | { phase: 'start'; migration: Migration; position: number; of: number }
  | { phase: 'done'; migration: Migration; position: number; of: number; durationMs: number }

/**
 * Brings the schema up to the latest version (or `target`, for upgrade tests); safe to run at every start and
 * concurrently with itself. Returns the versions it applied.
 */
export async function migrate(
  client: ClickHouseClient,
  database: string,
  target = Number.POSITIVE_INFINITY,
  onStep: (step: MigrationStep) => void = () => {},
): Promise<number[]> {
  const params = { db: database }
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: params })
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
    query_params: params,
  })
  const applied = new Set(await appliedVersions(client, database))
  const pending = MIGRATIONS.filter((m) => !applied.has(m.version) && m.version <= target)
  const ran: number[] = []
  for (const [i, migration] of pending.entries()) {
    const position = i + 1
    const started = Date.now()
    onStep({ phase: 'start', migration, position, of: pending.length })
    for (const statement of migration.statements) {
      await client.command({ query: statement, query_params: params })
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    })
    ran.push(migration.version)
    onStep({ phase: 'done', migration, position, of: pending.length, durationMs: Date.now() - started })
  }
  return ran
}

/** The latest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version))

/**
 * The database's schema is not the one this code was built for: behind (migrations not applied: run `meterflow
 * migrate`) or ahead (applied by newer code: deploy that code, or roll the database back).
 */
export class SchemaVersionError extends MeterFlowError {
  readonly code = 'schema_version_mismatch'
  readonly httpStatus = 503
  constructor(
    readonly database: string,
    readonly missing: readonly number[],
    readonly unknown: readonly number[],
  ) {
    const problems: string[] = []
    if (missing.length > 0) {
      problems.push(
        `migrations ${missing.join(', ')} are not applied: run \`meterflow migrate\` with this database's METERFLOW_CLICKHOUSE_* settings`,
      )
    }
    if (unknown.length > 0) {
      problems.push(
        `migrations ${unknown.join(', ')} were applied by newer MeterFlow code than this (which knows up to ${LATEST_SCHEMA_VERSION}): deploy that version`,
      )
    }
    super(
      `ClickHouse database ${database} is at a different schema version than this MeterFlow: ${problems.join('; ')}`,
      [
        ...missing.map((v) => ({ field: `schema_migrations.${v}`, reason: 'not applied' })),
        ...unknown.map((v) => ({ field: `schema_migrations.${v}`, reason: 'unknown to this version' })),
      ],
    )
  }
}

/**
 * Checks, in one query, that the database has exactly this code's migrations applied; throws SchemaVersionError
 * otherwise. For processes that must not migrate (the Lambda: a cold start is no time for DDL, and concurrent
 * containers would race each other's ALTERs); `meterflow migrate` applies them ahead of a deploy.
 */
export async function verifySchema(client: ClickHouseClient, database: string): Promise<void> {
  let applied: number[]
  try {
    applied = await appliedVersions(client, database)
  } catch (err) {
    // A database never migrated has no migration log (or no database) at all: it is behind every migration.
    if (!isUnknownTableOrDatabase(err)) throw err
    applied = []
  }
  const known = new Set(MIGRATIONS.map((m) => m.version))
  const have = new Set(applied)
  const missing = MIGRATIONS.map((m) => m.version).filter((v) => !have.has(v))
  const unknown = [...have].filter((v) => !known.has(v)).sort((a, b) => a - b)
  if (missing.length > 0 || unknown.length > 0) throw new SchemaVersionError(database, missing, unknown)
}

async function appliedVersions(client: ClickHouseClient, database: string): Promise<number[]> {
  const result = await client.query({
    query: 'SELECT DISTINCT version FROM {db:Identifier}.schema_migrations',
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  return (await result.json<{ version: number }>()).map((r) => Number(r.version))
}

// ClickHouse error codes: 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE (a server sends `code`; chDB only the message).
function isUnknownTableOrDatabase(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  if (code === '60' || code === '81') return true
  return /\b(UNKNOWN_TABLE|UNKNOWN_DATABASE)\b|Code: (60|81)\b/.test(String((err as Error)?.message ?? ''))
}
