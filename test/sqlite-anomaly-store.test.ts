import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { MIGRATIONS } from '../src/adapters/sqlite/schema.js'
import { StoreError, ValidationError } from '../src/errors.js'
import { describeAlertStoreContract } from './contract/alert-store.contract.js'
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
  NOW_S,
  run,
  SLOT,
  walk,
} from './contract/anomaly-store.contract.js'
import { describeApiKeyStoreContract } from './contract/api-key-store.contract.js'
import { describeListOrderContract } from './contract/list-orders.contract.js'
import { describeShardStoreContract } from './contract/shard-store.contract.js'
import { ManualClock, tempDataDir } from './helpers.js'

/** A fresh, empty store per contract test. */
const openSqliteStore = async (clock: ManualClock) => {
  const data = tempDataDir('meterflow-sqlite-')
  const store = SqliteAnomalyStore.open(join(data.dir, 'anomalies.db'), clock)
  return {
    store,
    async cleanup() {
      await store.close()
      data.remove()
    },
  }
}

describeAnomalyStoreContract('SQLite', openSqliteStore)
describeAnomalyKindContract('SQLite', openSqliteStore)
describeListOrderContract('SQLite', openSqliteStore, 'all')
describeAlertStoreContract('SQLite', openSqliteStore)
describeApiKeyStoreContract('SQLite', openSqliteStore)
describeShardStoreContract('SQLite', openSqliteStore)

describe('SqliteAnomalyStore', () => {
  let data: { dir: string; remove(): void }
  let path: string
  let clock: ManualClock
  const opened: SqliteAnomalyStore[] = []
  const raw: Database.Database[] = []

  const open = (options?: { busyTimeoutMs?: number }) => {
    const store = SqliteAnomalyStore.open(path, clock, options)
    opened.push(store)
    return store
  }
  /** A second, plain connection to look at the file behind the store's back. */
  const inspect = (readonly = true) => {
    const db = new Database(path, { readonly })
    raw.push(db)
    return db
  }
  const count = (table: string) =>
    (inspect().prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

  beforeEach(() => {
    data = tempDataDir('meterflow-sqlite-')
    // A directory that does not exist yet: open creates it.
    path = join(data.dir, 'nested', 'dir', 'anomalies.db')
    clock = new ManualClock(NOW)
  })

  afterEach(async () => {
    for (const db of raw.splice(0)) db.close()
    for (const store of opened.splice(0)) await store.close()
    data.remove()
  })

  it('keeps everything across close and reopen, and migrates once', async () => {
    const store = open()
    const record = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT, zScore: 0.1 + 0.7 })
    const inc = incident({ id: 'i1', customerId: 'c1', metric: 'api_calls', openedAt: SLOT })
    const r = run({ runId: 'r1', slot: SLOT, startedAt: SLOT + 1, durationMs: 12.5, status: 'completed' })
    const profile = customer({ customerId: 'c1', metrics: ['api_calls'], threshold: 3.3 })
    await store.putAnomalies([record])
    await store.saveIncidents([inc])
    await store.saveRun(r)
    await store.putCustomer(profile)
    await store.close()
    await store.close()

    const reopened = open()
    expect((await reopened.queryAnomalies({ customerId: 'c1', limit: 5 })).items).toStrictEqual([record])
    expect(await reopened.getIncident('i1')).toStrictEqual(inc)
    expect(await reopened.getRun('r1')).toStrictEqual(r)
    expect(await reopened.getCustomer('c1')).toStrictEqual(profile)
    expect(await reopened.putAnomalies([record])).toBe(0)
    await reopened.close()
    open()

    const db = inspect()
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'anomalies, incidents, runs, customers' },
      { version: 2, name: 'alert outbox, mutes, incident acknowledgement' },
      { version: 3, name: 'incident feedback, per-customer detector' },
      { version: 4, name: 'API keys' },
      { version: 5, name: 'shard results and finish claims of sharded runs' },
      { version: 6, name: 'records of every detection signal, incident signals' },
      { version: 7, name: 'indexes of the dashboard listing orders' },
    ])
    expect(db.pragma('user_version', { simple: true })).toBe(7)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
  })

  it('upgrades a version-1 file: incidents keep their data and read as not acknowledged', async () => {
    mkdirSync(join(data.dir, 'nested', 'dir'), { recursive: true })
    const v1 = inspect(false)
    const first = MIGRATIONS.find((m) => m.version === 1)
    if (!first) throw new Error('migration 1 missing')
    v1.exec(first.sql)
    v1.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,
      applied_at INTEGER NOT NULL) STRICT`)
    v1.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(first.name)
    const inc = incident({ id: 'i-old', customerId: 'c1', metric: 'api_calls', openedAt: SLOT })
    v1.prepare(
      `INSERT INTO incidents VALUES ('i-old', 'c1', 'api_calls', 'open', 'warning', 'spike', ?, ?, NULL, 3.5,
        3.25, 1, 0, ?)`,
    ).run(SLOT, SLOT, SLOT)
    v1.close()
    const store = open()
    expect(await store.getIncident('i-old')).toStrictEqual(inc)
    expect((await store.acknowledgeIncident('i-old', NOW, null))?.acknowledgedAt).toBe(NOW)
  })

  it('upgrades a version-4 file: its records stay and sharded runs can store results and claims', async () => {
    mkdirSync(join(data.dir, 'nested', 'dir'), { recursive: true })
    const v4 = inspect(false)
    v4.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,
      applied_at INTEGER NOT NULL) STRICT`)
    for (const migration of MIGRATIONS.filter((m) => m.version <= 4)) {
      v4.exec(migration.sql)
      v4.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    v4.pragma('user_version = 4')
    v4.prepare(`INSERT INTO customers (customer_id, status, updated_at) VALUES ('c1', 'disabled', ?)`).run(
      NOW,
    )
    v4.close()
    const store = open()
    expect((await store.getCustomer('c1'))?.status).toBe('disabled')
    const result = { runId: 'r1', index: 0, payload: '{"n":1}', ttl: NOW_S + 60 }
    expect(await store.shards.putResult(result)).toBe(true)
    expect(await store.shards.putResult({ ...result, payload: '{"n":2}' })).toBe(false)
    expect(await store.shards.results('r1')).toStrictEqual([result])
    expect(await store.shards.claimFinish('r1', 'a', NOW, NOW + 1000)).toBe(true)
    expect(await store.shards.claimFinish('r1', 'b', NOW, NOW + 1000)).toBe(false)
    expect(inspect().pragma('user_version', { simple: true })).toBe(7)
  })

  it('deletes expired shard results and long-expired claims with the next shard write', async () => {
    const store = open()
    await store.shards.putResult({ runId: 'old', index: 0, payload: 'x', ttl: NOW_S + 10 })
    await store.shards.putResult({ runId: 'kept', index: 0, payload: 'y', ttl: NOW_S + 100 })
    await store.shards.claimFinish('old', 'a', NOW, NOW + 1000)
    clock.ms = NOW + 50_000
    // expired, not yet deleted: the store may return it until the next write
    await store.shards.putResult({ runId: 'new', index: 0, payload: 'z', ttl: NOW_S + 1000 })
    expect(await store.shards.results('old')).toEqual([])
    expect((await store.shards.results('kept')).map((r) => r.payload)).toEqual(['y'])
    expect(count('shard_claims')).toBe(1)
    clock.ms = NOW + 1000 + DAY + 1
    await store.shards.putResult({ runId: 'new', index: 1, payload: 'z', ttl: NOW_S + 1000 })
    expect(count('shard_claims')).toBe(0)
  })

  it('deletes expired rows on a write, at most once a minute, and hides them until then', async () => {
    const store = open()
    const short = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT - HOUR, ttl: NOW_S + 30 })
    const shorter = anomaly({
      customerId: 'c1',
      metric: 'bandwidth',
      detectedAt: SLOT - HOUR,
      ttl: NOW_S + 10,
    })
    const kept = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
    await store.putAnomalies([short, shorter, kept])
    expect(count('anomalies')).toBe(3)

    // Both expired, but the last sweep (with the write above) was less than a minute ago: hidden, not deleted.
    clock.ms = NOW + 40_000
    expect(count('anomalies')).toBe(3)
    expect((await store.queryAnomalies({ customerId: 'c1', limit: 10 })).items.map(identity)).toEqual([
      identity(kept),
    ])
    await store.putAnomalies([anomaly({ customerId: 'c2', metric: 'api_calls', detectedAt: SLOT })])
    expect(count('anomalies')).toBe(4)
    // An expired row not swept yet does not block a record with its identity: that record is new.
    const renewed = { ...shorter, ttl: NOW_S + 3600, runId: 'renewed' }
    expect(await store.putAnomalies([renewed])).toBe(1)
    expect(await store.putAnomalies([renewed])).toBe(0)
    expect((await store.queryAnomalies({ metric: 'bandwidth', limit: 10 })).items).toStrictEqual([renewed])
    expect(count('anomalies')).toBe(4)

    // A minute after the last sweep the next write sweeps, whether it stores anomalies or a run.
    clock.ms = NOW + 61_000
    await store.saveRun(run({ runId: 'r1', slot: SLOT, startedAt: clock.ms }))
    expect(count('anomalies')).toBe(3)
    const left = inspect()
      .prepare('SELECT customer_id, metric, detected_at FROM anomalies ORDER BY 1, 2')
      .all()
    expect(left).toEqual([
      { customer_id: 'c1', metric: 'api_calls', detected_at: SLOT },
      { customer_id: 'c1', metric: 'bandwidth', detected_at: SLOT - HOUR },
      { customer_id: 'c2', metric: 'api_calls', detected_at: SLOT },
    ])
  })

  it('orders ties by metric then customer (ascending, as the app merge expects) and pages without a trailing empty page', async () => {
    const store = open()
    await store.putAnomalies([
      anomaly({ customerId: 'a', metric: 'm1', detectedAt: SLOT }),
      anomaly({ customerId: 'b', metric: 'm1', detectedAt: SLOT }),
      anomaly({ customerId: 'a', metric: 'm2', detectedAt: SLOT }),
      anomaly({ customerId: 'a', metric: 'm1', detectedAt: SLOT - HOUR }),
      anomaly({ customerId: 'a', metric: 'm3', detectedAt: SLOT - DAY }),
    ])
    const byCustomer = await walk((cursor) => store.queryAnomalies({ customerId: 'a', limit: 2, cursor }))
    expect(byCustomer.map((page) => page.map(identity))).toEqual([
      [`a|m1|${SLOT}`, `a|m2|${SLOT}`],
      [`a|m1|${SLOT - HOUR}`, `a|m3|${SLOT - DAY}`],
    ])
    const byMetric = await walk((cursor) => store.queryAnomalies({ metric: 'm1', limit: 1, cursor }))
    expect(byMetric.map((page) => page.map(identity))).toEqual([
      [`a|m1|${SLOT}`],
      [`b|m1|${SLOT}`],
      [`a|m1|${SLOT - HOUR}`],
    ])
  })

  it('continues a walk correctly when rows are written between pages', async () => {
    const store = open()
    await store.putAnomalies(
      [1, 2, 3, 4].map((h) => anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT - h * HOUR })),
    )
    const first = await store.queryAnomalies({ customerId: 'c', limit: 2 })
    // A newer record lands before the cursor's position: the walk neither repeats nor skips what remains.
    await store.putAnomalies([anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT })])
    const second = await store.queryAnomalies({ customerId: 'c', limit: 2, cursor: first.nextCursor ?? '' })
    expect([...first.items, ...second.items].map((r) => r.detectedAt)).toEqual(
      [1, 2, 3, 4].map((h) => SLOT - h * HOUR),
    )
    expect(second.nextCursor).toBeNull()
  })

  it('rejects bad limits, non-finite numbers and a cursor from another listing with a ValidationError', async () => {
    const store = open()
    const fieldsOf = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ValidationError)
      return (err as ValidationError).details.map((d) => d.field)
    }
    expect(await fieldsOf(store.queryAnomalies({ customerId: 'c', limit: 0 }))).toEqual(['limit'])
    expect(await fieldsOf(store.listRuns({ limit: 1.5 }))).toEqual(['limit'])
    expect(
      await fieldsOf(
        store.putAnomalies([
          anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT }),
          {
            ...anomaly({ customerId: 'c', metric: 'm', detectedAt: SLOT }),
            detectedAt: SLOT + 0.5,
            zScore: Number.NaN,
          },
        ]),
      ),
    ).toEqual(['detected_at', 'z_score'])
    expect(count('anomalies')).toBe(0)

    await store.saveRun(run({ runId: 'r1', slot: SLOT, startedAt: SLOT }))
    await store.saveRun(run({ runId: 'r2', slot: SLOT - HOUR, startedAt: SLOT }))
    const runCursor = (await store.listRuns({ limit: 1 })).nextCursor ?? ''
    expect(await fieldsOf(store.queryAnomalies({ customerId: 'c', limit: 1, cursor: runCursor }))).toEqual([
      'cursor',
    ])
    expect(await fieldsOf(store.listIncidents({ limit: 1, cursor: runCursor }))).toEqual(['cursor'])
    expect((await store.listRuns({ limit: 1, cursor: runCursor })).items.map((r) => r.runId)).toEqual(['r2'])
  })

  describe('failures become StoreErrors naming the operation', () => {
    const storeError = async (promise: Promise<unknown> | (() => unknown)) => {
      let err: unknown = null
      try {
        await (typeof promise === 'function' ? promise() : promise)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(StoreError)
      return err as StoreError
    }

    it('when the path is a directory', async () => {
      mkdirSync(path, { recursive: true })
      const err = await storeError(() => open())
      expect(err.message).toMatch(/failed to open the anomaly store at .*anomalies\.db/)
      expect((err.cause as { code?: string }).code).toBe('SQLITE_CANTOPEN')
    })

    it('when the file is not a database', async () => {
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, 'this is not a database file, just some text that is long enough'.repeat(100))
      const err = await storeError(() => open())
      expect(err.message).toMatch(/failed to open the anomaly store/)
      expect(err.message).toMatch(/not a database/)
    })

    it('when the file was written by a newer schema', async () => {
      await open().close()
      inspect(false)
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)')
        .run('from the future')
      const err = await storeError(() => open())
      expect(err.message).toMatch(/schema version 99, newer than this MeterFlow supports \(7\)/)
    })

    it('when another connection holds the write lock, and recovers once it is released', async () => {
      const store = open({ busyTimeoutMs: 50 })
      const other = inspect(false)
      other.exec('BEGIN IMMEDIATE')
      const record = anomaly({ customerId: 'c1', metric: 'api_calls', detectedAt: SLOT })
      const err = await storeError(store.putAnomalies([record]))
      expect(err.message).toMatch(/failed to store anomalies .*database is locked/)
      expect((err.cause as { code?: string }).code).toBe('SQLITE_BUSY')
      expect(err.code).toBe('store_unavailable')
      await storeError(
        store.saveIncidents([incident({ id: 'i', customerId: 'c1', metric: 'm', openedAt: SLOT })]),
      )
      // Readers are not blocked by a writer in WAL mode.
      expect((await store.queryAnomalies({ customerId: 'c1', limit: 1 })).items).toEqual([])
      other.exec('ROLLBACK')
      expect(await store.putAnomalies([record])).toBe(1)
    })

    it('when the store is used after close', async () => {
      const store = open()
      await store.close()
      const err = await storeError(store.queryAnomalies({ metric: 'api_calls', limit: 1 }))
      expect(err.message).toMatch(/failed to query anomalies/)
      await storeError(store.getCustomer('c1'))
    })
  })
})
