import type Database from 'better-sqlite3'

import { MIGRATIONS, type Migration } from './migrations.js'

export { MIGRATIONS, type Migration }

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0)

/**
 * Applies the migrations this database lacks, each in its own IMMEDIATE transaction (so two processes opening
 * the same file at once cannot both apply one), recording it in `schema_migrations` and `user_version`.
 * Refuses a database written by a newer MeterFlow rather than guessing at its schema.
 */
export function migrate(db: Database.Database, now: number): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`)
  const applied = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations')
  const record = db.prepare(
    'INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  )
  const known = new Set(applied.all().map((r) => r.version))
  const newest = Math.max(0, ...known)
  if (newest > SCHEMA_VERSION) {
    throw new Error(
      `the database has schema version ${newest}, newer than this MeterFlow supports (${SCHEMA_VERSION})`,
    )
  }
  for (const migration of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (known.has(migration.version)) continue
    db.transaction(() => {
      db.exec(migration.sql)
      record.run(migration.version, migration.name, now)
      // PRAGMA takes no bound parameters; the version is a number from this file.
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
}

// ---- Columns, in table order; rows bind to statements by these names -----------------------------------------

export const ANOMALY_COLUMNS = [
  'customer_id',
  'detected_at',
  'metric',
  'kind',
  'current_value',
  'severity',
  'direction',
  'window_start',
  'window_end',
  'signal_fields',
  'incident_id',
  'run_id',
  'ttl',
] as const
export const INCIDENT_COLUMNS = [
  'id',
  'customer_id',
  'metric',
  'status',
  'severity',
  'direction',
  'opened_at',
  'last_seen_at',
  'resolved_at',
  'peak_z_score',
  'last_z_score',
  'detections',
  'clean_runs',
  'last_evaluated_slot',
  'opened_by_signal',
  'firing_signals',
] as const
export const RUN_COLUMNS = [
  'run_id',
  'slot',
  'status',
  'started_at',
  'finished_at',
  'duration_ms',
  'checked',
  'customers',
  'anomalies_found',
  'anomalies_stored',
  'insufficient_data',
  'incidents_opened',
  'incidents_escalated',
  'incidents_resolved',
  'triggered_by',
  'error',
] as const
export const CUSTOMER_COLUMNS = [
  'customer_id',
  'status',
  'threshold',
  'critical_threshold',
  'metrics',
  'updated_at',
  'detector',
] as const

/** `INSERT ... ON CONFLICT (key) DO UPDATE SET <every other column> [WHERE ...]`, bound by column name. */
export function upsertSql(
  table: string,
  columns: readonly string[],
  key: readonly string[],
  where = '',
): string {
  const set = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`)
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${set.join(', ')} ${where ? `WHERE ${where}` : ''}`
}
