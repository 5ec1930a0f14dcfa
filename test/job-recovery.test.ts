import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webhookChannel } from '../src/adapters/alerts/webhook/index.js'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { AlertService } from '../src/app/alerting/service.js'
import { runDetection } from '../src/app/run-detection.js'
import { loadConfig } from '../src/config.js'
import { generateDemo } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { SEED_DETECTOR } from '../src/domain/detector.js'
import type { Incident } from '../src/domain/incident.js'
import { DEFAULT_VOLUME_OPTIONS } from '../src/domain/volume.js'
import type { AlertChannel, AnomalyStore } from '../src/ports.js'
import { type Harness, openHarness } from './helpers.js'
import { Receiver } from './receiver.js'

const END = Date.UTC(2026, 10, 25, 12)
let h: Harness
let store: SqliteAnomalyStore

beforeAll(async () => {
  h = await openHarness(END + 3_600_000)
  await loadDemo(generateDemo({ customers: 20, days: 35, seed: 9, endMs: END }), (batch) =>
    h.meterflow.ingest(batch),
  )
  store = SqliteAnomalyStore.open(join(h.meterflow.config.dataDir, 'recovery.sqlite'), h.clock)
})
afterAll(async () => {
  await store?.close()
  await h?.close()
})

/** The real SQLite store, with the incident write failing once: a crash after anomalies were stored. */
function failingOnceAtIncidents(real: AnomalyStore): AnomalyStore {
  let failed = false
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'saveIncidents' && !failed) {
        return async (_incidents: readonly Incident[]) => {
          failed = true
          throw new Error('disk I/O error (injected)')
        }
      }
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

const baseDeps = () => ({
  usage: h.meterflow.usage,
  metrics: h.meterflow.metrics,
  clock: h.clock,
  volume: { ...DEFAULT_VOLUME_OPTIONS, baselineDays: 30 },
  incidents: { resolveAfterCleanRuns: 2 },
  detectorFor: () => SEED_DETECTOR,
})

describe('a run that failed half-way', () => {
  it('is recorded as failed, and re-running the slot completes it without duplicates', async () => {
    const deps = baseDeps()
    const crashed = await runDetection({ ...deps, anomalies: failingOnceAtIncidents(store) }, END, 'cli')
    expect(crashed.run).toMatchObject({ status: 'failed', error: expect.stringMatching(/injected/) })
    expect(crashed.run.anomaliesStored).toBeGreaterThan(0)
    expect(await store.openIncidents()).toEqual([])
    const storedFirst = (await store.queryAnomalies({ metric: 'api_calls', limit: 1000 })).items.length

    h.clock.ms += 60_000
    const retried = await runDetection({ ...deps, anomalies: store }, END, 'cli')
    expect(retried.run).toMatchObject({ status: 'completed', anomaliesStored: 0 })
    expect(retried.run.anomaliesFound).toBe(crashed.run.anomaliesFound)
    expect((await store.queryAnomalies({ metric: 'api_calls', limit: 1000 })).items.length).toBe(storedFirst)
    const open = await store.openIncidents()
    expect(open.length).toBe(retried.run.anomaliesFound)
    expect(retried.transitions.filter((t) => t.transition === 'opened')).toHaveLength(open.length)

    h.clock.ms += 60_000
    const third = await runDetection({ ...deps, anomalies: store }, END, 'cli')
    expect(third.transitions).toEqual([])
    expect((await store.listRuns({ limit: 10 })).items.map((r) => r.status)).toEqual([
      'completed',
      'completed',
      'failed',
    ])
  })
})

describe('alerts of a run that failed between its outbox write and its incident write', () => {
  it('are not sent until a re-run records the transitions, then each once; the failure alerts ops', async () => {
    const receiver = await new Receiver().start()
    const alertStore = SqliteAnomalyStore.open(
      join(h.meterflow.config.dataDir, 'recovery-alerts.sqlite'),
      h.clock,
    )
    try {
      const config = loadConfig({}, { alerts: { webhook: { url: receiver.url } } })
      const webhook = webhookChannel.create(config, { clock: h.clock, timeoutMs: 2000, write: () => {} })
      const route = { ...webhookChannel.defaultRoute }
      const alerts = new AlertService(alertStore, [{ channel: webhook as AlertChannel, route }], h.clock, {
        stormLimit: 1000,
        jobSlowMs: 600_000,
        publicUrl: null,
        retry: { maxAttempts: 3, baseMs: 1000, maxMs: 10_000 },
        leaseMs: 60_000,
      })
      const crashed = await runDetection(
        { ...baseDeps(), anomalies: failingOnceAtIncidents(alertStore), alerts },
        END,
        'cli',
      )
      expect(crashed.run.status).toBe('failed')
      const written = (await alertStore.alerts.list({ limit: 1000 })).items
      const incidentAlerts = written.filter((d) => d.alert.kind === 'incident')
      expect(incidentAlerts.length).toBeGreaterThan(0)
      await alerts.deliver()
      // Only the ops alert about the failed run: the openings are not recorded, so they are not news yet.
      expect(receiver.received.map((r) => (r.json as { type: string }).type)).toEqual(['job_health'])
      expect(receiver.received[0]?.body).toContain('injected')

      h.clock.ms += 60_000
      const retried = await runDetection({ ...baseDeps(), anomalies: alertStore, alerts }, END, 'cli')
      expect(retried.run.status).toBe('completed')
      h.clock.ms += 60_000
      await alerts.deliver()
      await alerts.deliver()
      const sent = receiver.received.filter((r) => (r.json as { type: string }).type === 'incident')
      const ids = sent.map((r) => (r.json as { id: string }).id)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids.sort()).toEqual(incidentAlerts.map((d) => d.alert.id).sort())
      expect(new Set(sent.map((r) => r.headers['webhook-id'])).size).toBe(ids.length)
      expect(sent).toHaveLength((await alertStore.openIncidents()).length)
    } finally {
      await alertStore.close()
      await receiver.stop()
    }
  })
})
