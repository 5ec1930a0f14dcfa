import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { MIGRATIONS } from '../src/adapters/sqlite/schema.js'
import { StoreError } from '../src/errors.js'
import { anomaly, HOUR, incident, NOW, SLOT } from './contract/anomaly-store.contract.js'
import { ManualClock, tempDataDir } from './helpers.js'

// Schema version 6 gave records a signal kind (part of their identity) and incidents their signals. A file written
// by version 5 must read back unchanged, every stored record as volume's, every number exact.

let data: { dir: string; remove(): void }
let path: string
const stores: SqliteAnomalyStore[] = []

beforeEach(() => {
  data = tempDataDir('meterflow-sqlite-signals-')
  mkdirSync(data.dir, { recursive: true })
  path = join(data.dir, 'anomalies.db')
})
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  data.remove()
})

const open = () => {
  const store = SqliteAnomalyStore.open(path, new ManualClock(NOW))
  stores.push(store)
  return store
}

/** A file exactly as version 5 left it. */
function writeVersion5(fill: (db: Database.Database) => void): void {
  const db = new Database(path)
  db.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,
    applied_at INTEGER NOT NULL) STRICT`)
  for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
    db.exec(migration.sql)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
  }
  db.pragma('user_version = 5')
  fill(db)
  db.close()
}

it('upgrades a version-5 file: records become volume records with every number exact, incidents get signals', async () => {
  const awkward = anomaly({
    customerId: 'cust-ü/1',
    metric: 'bandwidth',
    detectedAt: SLOT,
    currentValue: 0.1 + 0.2,
    baselineMean: 1 / 3,
    baselineStddev: 2.5e-7,
    zScore: -4.123456789012345,
    severity: 'critical',
    direction: 'drop',
    samples: 29,
    // Version 5 did not record which window judged a record: not recorded reads as null.
    windowKind: null,
    incidentId: 'cust-ü/1|bandwidth|2025-03-10T11:00:00.000Z',
  })
  const extremes = [1e300, -5e-324, 123456789.125, 3, -0.1 + 0.7].map((z, i) =>
    anomaly({
      customerId: 'c2',
      metric: 'api_calls',
      detectedAt: SLOT - (i + 1) * HOUR,
      zScore: z,
      baselineMean: 1000 + i / 3,
      windowKind: null,
    }),
  )
  const firing = incident({ id: 'i-open', customerId: 'c1', metric: 'api_calls', openedAt: SLOT - 2 * HOUR })
  const quiet = incident({
    id: 'i-quiet',
    customerId: 'c3',
    metric: 'api_calls',
    openedAt: SLOT - 3 * HOUR,
    cleanRuns: 1,
  })
  const resolved = incident({
    id: 'i-resolved',
    customerId: 'c4',
    metric: 'api_calls',
    openedAt: SLOT - 9 * HOUR,
    status: 'resolved',
    resolvedAt: SLOT - 4 * HOUR,
    cleanRuns: 2,
  })
  writeVersion5((db) => {
    const insert = db.prepare(`INSERT INTO anomalies VALUES (@customerId, @detectedAt, @metric, @currentValue,
      @baselineMean, @baselineStddev, @zScore, @severity, @direction, @windowStart, @windowEnd, @samples, @incidentId,
      @runId, @ttl)`)
    for (const r of [awkward, ...extremes]) insert.run(r)
    const insertIncident =
      db.prepare(`INSERT INTO incidents (id, customer_id, metric, status, severity, direction,
      opened_at, last_seen_at, resolved_at, peak_z_score, last_z_score, detections, clean_runs, last_evaluated_slot)
      VALUES (@id, @customerId, @metric, @status, @severity, @direction, @openedAt, @lastSeenAt, @resolvedAt,
      @peakZScore, @lastZScore, @detections, @cleanRuns, @lastEvaluatedSlot)`)
    for (const i of [firing, quiet, resolved]) insertIncident.run(i)
  })

  const store = open()
  expect((await store.queryAnomalies({ customerId: 'cust-ü/1', limit: 10 })).items).toStrictEqual([awkward])
  expect((await store.queryAnomalies({ customerId: 'c2', kind: 'volume', limit: 10 })).items).toStrictEqual(
    extremes,
  )
  expect(await store.putAnomalies([awkward, ...extremes])).toBe(0)
  expect(await store.getIncident('i-open')).toStrictEqual(firing)
  expect(await store.getIncident('i-quiet')).toStrictEqual({ ...quiet, firingSignals: [] })
  expect(await store.getIncident('i-resolved')).toStrictEqual({ ...resolved, firingSignals: [] })

  const db = new Database(path, { readonly: true })
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(7)
    // The indexes the queries rely on were rebuilt with the table (and version 7 adds the listing orders').
    const indexes = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'anomalies'`)
      .all()
    expect(indexes.map((i) => (i as { name: string }).name).sort()).toEqual([
      'anomalies_detected_at',
      'anomalies_metric_detected_at',
      'anomalies_severity',
      'anomalies_ttl',
    ])
  } finally {
    db.close()
  }
})

it("keys records by kind too: another signal's row beside the volume one, refused on read by a version without it", async () => {
  const store = open()
  const record = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
  await store.putAnomalies([record])
  const db = new Database(path)
  try {
    // What a newer MeterFlow with a second signal would write for the same customer, slot and metric.
    db.prepare(
      `INSERT INTO anomalies SELECT customer_id, detected_at, metric, 'seasonality', current_value, severity,
         direction, window_start, window_end, '{"seasonal_index":0.5}', incident_id, run_id, ttl FROM anomalies`,
    ).run()
    expect(db.prepare('SELECT count(*) AS n FROM anomalies').get()).toEqual({ n: 2 })
  } finally {
    db.close()
  }
  expect((await store.queryAnomalies({ customerId: 'c1', kind: 'volume', limit: 10 })).items).toStrictEqual([
    record,
  ])
  expect(
    (await store.queryAnomalies({ metric: 'api_calls', kind: 'volume', limit: 10 })).items,
  ).toStrictEqual([record])
  const err = await store.queryAnomalies({ customerId: 'c1', limit: 10 }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(StoreError)
  expect(String(err)).toMatch(/kind 'seasonality', which this version does not know/)
})

it('reads a record stored before the window was recorded as window_kind null, and refuses a window it does not know', async () => {
  const store = open()
  const record = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT, windowKind: 'recent' })
  await store.putAnomalies([record])
  const db = new Database(path)
  const setFields = (sql: string) => db.prepare(`UPDATE anomalies SET signal_fields = ${sql}`).run()
  try {
    expect(db.prepare('SELECT signal_fields FROM anomalies').get()).toEqual({
      signal_fields:
        '{"baseline_mean":1000,"baseline_stddev":100,"z_score":5,"samples":30,"window_kind":"recent"}',
    })
    // The same row as this version's predecessor wrote it: no window_kind in signal_fields.
    setFields(`json_remove(signal_fields, '$.window_kind')`)
    expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items).toStrictEqual([
      { ...record, windowKind: null },
    ])
    setFields(`json_set(signal_fields, '$.window_kind', 'week')`)
  } finally {
    db.close()
  }
  const err = await store.queryAnomalies({ customerId: 'c1', limit: 10 }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(StoreError)
  expect(String(err)).toMatch(/volume field window_kind must be one of day, hour, recent or null, got week/)
})
