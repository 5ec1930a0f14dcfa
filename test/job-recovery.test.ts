import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { runDetection } from '../src/app/run-detection.js'
import { generateDemo } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { SEED_DETECTOR } from '../src/domain/detector.js'
import type { Incident } from '../src/domain/incident.js'
import { DEFAULT_VOLUME_OPTIONS } from '../src/domain/volume.js'
import type { AnomalyStore } from '../src/ports.js'
import { type Harness, openHarness } from './helpers.js'

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

describe('a run that failed half-way', () => {
  it('is recorded as failed, and re-running the slot completes it without duplicates', async () => {
    const deps = {
      usage: h.meterflow.usage,
      metrics: h.meterflow.metrics,
      clock: h.clock,
      volume: { ...DEFAULT_VOLUME_OPTIONS, baselineDays: 30 },
      incidents: { resolveAfterCleanRuns: 2 },
      detectorFor: () => SEED_DETECTOR,
    }
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
