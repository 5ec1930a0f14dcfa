import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { runDetection } from '../src/app/run-detection.js'
import { buildServer } from '../src/http/server.js'
import type { UsageStore } from '../src/ports.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import { Receiver } from './receiver.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// The usage store (the real embedded ClickHouse engine) failing for real: its tables are detached (DETACH TABLE)
// and attached again, during a detection run and during ingest. (test/job-recovery.test.ts covers the anomaly
// store failing half-way through a run; test/alert-storm-crash.test.ts a process killed mid-delivery.)

const HOUR = 3_600_000
const SLOT = Date.UTC(2026, 10, 25, 12)
const customers = Array.from({ length: 14 }, (_, i) => `usage-fail-${String(i).padStart(2, '0')}`)
const spiking = customers.slice(0, 4)

const data = tempDataDir()
const clock = new ManualClock(SLOT + 60_000)
const receiver = new Receiver()
let clickhouse: ClickHouseClient
let meterflow: MeterFlow
let app: FastifyInstance
/** The usage store's own tables (not views, not the metric registry or the migration log). */
let usageTables: string[]

beforeAll(async () => {
  await receiver.start()
  const config = testConfig(data.dir, {
    alerts: { webhook: { url: receiver.url } },
    // Several chunks of customers per run, so that a run can fail between two of them.
    job: { schedulerEnabled: false, customersPerChunk: 4 },
  })
  clickhouse = await createClickHouseClient(config)
  meterflow = await openMeterFlow(config, { clock, clickhouse })
  app = await buildServer(meterflow)
  const rows = await clickhouse.query({
    query: `SELECT name FROM system.tables WHERE database = {db:String}
      AND engine NOT IN ('MaterializedView', 'View') AND name NOT IN ('metrics', 'schema_migrations') ORDER BY name`,
    query_params: { db: config.clickhouse.database },
    format: 'JSONEachRow',
  })
  usageTables = (await rows.json<{ name: string }>()).map((r) => r.name)
  // One event a day at noon up to SLOT's own (SLOT is noon): every 24-hour window holds exactly one of them.
  const loaded = await post('/v1/events', [
    ...steadyDaily(customers, SLOT + 1),
    ...extra(spiking, SLOT - HOUR / 2, 9000),
  ])
  expect(loaded.statusCode, loaded.body).toBe(200)
})

afterAll(async () => {
  await app?.close()
  await meterflow?.close()
  await receiver.stop()
  data.remove()
})

function post(url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as object })
}

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

const statement = (verb: 'DETACH' | 'ATTACH', table: string) =>
  clickhouse.command({
    query: `${verb} TABLE {db:Identifier}.{table:Identifier}`,
    query_params: { db: meterflow.config.clickhouse.database, table },
  })

/** Runs `during` with the tables detached, attaching them again whatever happens. */
async function withDetached<T>(tables: readonly string[], during: () => Promise<T>): Promise<T> {
  for (const table of tables) await statement('DETACH', table)
  try {
    return await during()
  } finally {
    for (const table of tables) await statement('ATTACH', table)
  }
}

/** The alerts the webhook receiver got, as `type` (and the incident's customer, or the failed run's error). */
const received = () =>
  receiver.received.map((r) => {
    const body = r.json as { type: string; data?: { incident?: { customer_id?: string } } }
    return { type: body.type, customer: body.data?.incident?.customer_id, body: r.body }
  })

describe('the usage store failing during a detection run', () => {
  it('fails the run and alerts ops once when the store is down before the run', async () => {
    expect(usageTables).toEqual(expect.arrayContaining(['usage_events', 'usage_hourly']))
    const res = await withDetached(usageTables, () => post('/v1/runs', { slot: SLOT }))
    expect(res.statusCode).toBe(500)
    expect(res.json()).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/ClickHouse failed to /),
      anomalies_stored: 0,
    })
    await meterflow.alerts.deliver()
    expect(received().map((r) => r.type)).toEqual(['job_health'])
    expect(received()[0]?.body).toMatch(/ClickHouse failed to/)
  })

  it('fails the run and stores nothing of it when the store breaks between two chunks of customers', async () => {
    clock.ms = SLOT + HOUR + 60_000
    const {
      detector,
      detectorsByMetric: _byMetric,
      excludeFeedback: _labels,
      ...volume
    } = meterflow.config.detection
    const outcome = await runDetection(
      {
        usage: breakingAfterFirstChunk(meterflow.usage, () => statement('DETACH', 'usage_hourly')),
        anomalies: meterflow.anomalies,
        metrics: meterflow.metrics,
        clock,
        volume,
        incidents: { resolveAfterCleanRuns: meterflow.config.job.resolveAfterCleanRuns },
        detectorFor: () => detector,
        alerts: meterflow.alerts,
      },
      SLOT + HOUR,
      'schedule',
    ).finally(() => statement('ATTACH', 'usage_hourly'))
    expect(outcome.run).toMatchObject({ status: 'failed', anomaliesStored: 0, incidentsOpened: 0 })
    expect(outcome.run.error).toMatch(/usage_hourly/)
    // The first chunk was judged before the store broke: a failure half-way, not at the start.
    expect(outcome.run.checked).toBeGreaterThan(0)
    expect(outcome.run.checked).toBeLessThan(customers.length)
    expect(outcome.transitions).toEqual([])
    expect((await get('/v1/anomalies?metric=api_calls')).items).toEqual([])
    expect((await get('/v1/incidents')).items).toEqual([])
    await meterflow.alerts.deliver()
    expect(received().map((r) => r.type)).toEqual(['job_health', 'job_health'])
  })

  it('catches up in the next run once the store is back, and re-runs of the failed slots double nothing', async () => {
    clock.ms = SLOT + 2 * HOUR + 60_000
    const next = await post('/v1/runs', { slot: SLOT + 2 * HOUR })
    expect(next.statusCode, next.body).toBe(200)
    // The spike half an hour before the first failed slot is still inside the next run's 24-hour window.
    expect(next.json()).toMatchObject({ status: 'completed', anomalies_found: 4, incidents_opened: 4 })
    for (const slot of [SLOT, SLOT + HOUR]) {
      const retried = await post('/v1/runs', { slot })
      expect(retried.statusCode, retried.body).toBe(200)
      // Older than the latest completed slot: a backfill, which stores its anomalies and opens nothing.
      expect(retried.json()).toMatchObject({ status: 'completed', anomalies_stored: 4, incidents_opened: 0 })
    }
    await meterflow.alerts.deliver()
    await meterflow.alerts.deliver()

    const incidentAlerts = received().filter((r) => r.type === 'incident')
    expect(incidentAlerts.map((r) => r.customer).sort()).toEqual(spiking)
    expect(
      received()
        .filter((r) => r.type !== 'incident')
        .map((r) => r.type),
    ).toEqual(['job_health', 'job_health'])
    const open = (await get('/v1/incidents?status=open')).items as { customer_id: string }[]
    expect(open.map((i) => i.customer_id).sort()).toEqual(spiking)
    for (const customer of spiking) {
      const anomalies = (await get(`/v1/anomalies?customer_id=${customer}&metric=api_calls`)).items
      expect(anomalies.map((a: { detected_at: string }) => a.detected_at)).toEqual(
        [SLOT + 2 * HOUR, SLOT + HOUR, SLOT].map((t) => new Date(t).toISOString()),
      )
    }
    const runs = (await get('/v1/runs')).items as { status: string }[]
    expect(runs.map((r) => r.status).sort()).toEqual([
      'completed',
      'completed',
      'completed',
      'failed',
      'failed',
    ])
  })
})

describe('the usage store failing during ingest', () => {
  const INGEST_CUSTOMER = 'ingest-fail-co'
  const N = 200
  const SUM = (N * (N + 1)) / 2
  const batch = (prefix: string | null, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      ...(prefix === null ? {} : { event_id: `${prefix}-${i}` }),
      customer_id: INGEST_CUSTOMER,
      metric: 'bandwidth',
      value: i + 1,
      timestamp: SLOT - (1 + (i % 72)) * HOUR + 1_000 * i + (prefix === null ? 7 : 0),
    }))

  /** Raw rows, the rollup's and the raw table's view of the customer, and its first hour: all must move together. */
  async function snapshot() {
    const usage = meterflow.usage
    const span = { startMs: SLOT - 400 * 24 * HOUR, endMs: SLOT + HOUR }
    const [rollup] = await usage.aggregateWindows(INGEST_CUSTOMER, 'bandwidth', 'sum', [span])
    const [raw] = await usage.aggregateWindows(INGEST_CUSTOMER, 'bandwidth', 'sum', [
      { ...span, startMs: span.startMs + 1 },
    ])
    return {
      rows: await usage.countEvents(),
      rollup,
      raw,
      firstHour: await usage.firstEventHour(INGEST_CUSTOMER, 'bandwidth'),
    }
  }

  /**
   * Sends `events` while `table` is detached (503 expected), then again once it is back, then a third time. The N
   * new events among them must end up stored exactly once; returns what became of the refused request.
   */
  async function failThenRetry(
    table: string,
    events: readonly object[],
    resent: number,
    headers: Record<string, string> = {},
  ): Promise<string> {
    const send = () => app.inject({ method: 'POST', url: '/v1/events', payload: events as object[], headers })
    const before = await snapshot()
    const refused = await withDetached([table], send)
    expect(refused.statusCode, `${table}: ${refused.body}`).toBe(503)
    expect(refused.json(), table).toEqual({
      error: expect.any(String),
      message: expect.any(String),
      details: expect.any(Array),
    })
    // Once the table is back: the refused batch is either not there at all, or there whole (a store may finish a
    // batch it had begun, before anything reads it), never in part.
    const afterFailure = await snapshot()

    const retried = await send()
    expect(retried.statusCode, `${table}: ${retried.body}`).toBe(200)
    const after = await snapshot()
    expect(after.rows, table).toBe(before.rows + N)
    expect(after.rollup, table).toEqual({
      value: (before.rollup?.value ?? 0) + SUM,
      events: (before.rollup?.events ?? 0) + N,
    })
    expect(after.raw, table).toEqual(after.rollup)
    const finished = afterFailure.rows !== before.rows
    expect(afterFailure, `${table}: part of the refused batch was stored`).toEqual(finished ? after : before)
    // The retry's reply says what it added: the new events, or nothing if the store had finished the batch.
    expect(retried.json(), table).toMatchObject({
      received: events.length,
      stored: finished ? 0 : N,
      duplicates: finished ? events.length : resent,
    })

    const again = await send()
    expect(again.json(), table).toMatchObject({ stored: 0, duplicates: events.length })
    expect(await snapshot(), table).toEqual(after)
    return finished ? 'finished by the store before the retry' : 'nothing stored until the retry'
  }

  it('answers 503, stores all or nothing, and a retry leaves events with ids stored once', async () => {
    const earlier = batch('ingest-fail-earlier', 3)
    expect((await post('/v1/events', earlier)).json()).toMatchObject({ stored: 3 })
    const outcomes: Record<string, string> = {}
    for (const table of usageTables) {
      // New events plus the three already stored (a client re-sending what it is unsure about).
      outcomes[table] = await failThenRetry(table, [...batch(`ingest-fail-${table}`, N), ...earlier], 3)
    }
    console.log('ingest of events with ids, one table detached:', outcomes)
  })

  it('does the same for events without ids sent with an Idempotency-Key', async () => {
    const outcomes: Record<string, string> = {}
    for (const table of usageTables) {
      const key = { 'idempotency-key': `usage-store-failure-${table}` }
      outcomes[table] = await failThenRetry(table, batch(null, N), 0, key)
    }
    console.log('ingest without ids, with an Idempotency-Key, one table detached:', outcomes)
  })
})

/**
 * The real usage store, whose `seriesWindows` runs `breakIt` once the run has taken its first chunk of series and
 * asks for the next: the next chunk's query then meets the broken store (the engine itself fails, nothing is
 * faked; this only picks the moment).
 */
function breakingAfterFirstChunk(real: UsageStore, breakIt: () => Promise<unknown>): UsageStore {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'seriesWindows') {
        return async function* (...args: Parameters<UsageStore['seriesWindows']>) {
          let first = true
          for await (const chunk of target.seriesWindows(...args)) {
            yield chunk
            if (first) {
              first = false
              await breakIt()
            }
          }
        }
      }
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
