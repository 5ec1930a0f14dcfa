import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type Config, type ConfigInput, loadConfig } from '../src/config.js'
import type { DemoDataset } from '../src/demo/generator.js'
import { toApiEvent } from '../src/demo/load.js'
import type { UsageEvent } from '../src/domain/events.js'
import { buildServer } from '../src/http/server.js'
import type { Clock, UsageStore } from '../src/ports.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'

/**
 * Inserts `events` in a random order (from `random`) in batches of `batchSize`: an hour's rows land in several
 * parts of the rollup, unmerged, as late and out-of-order usage leaves them.
 */
export async function insertShuffled(
  store: Pick<UsageStore, 'insertEvents'>,
  events: readonly UsageEvent[],
  random: () => number,
  batchSize: number,
): Promise<void> {
  const shuffled = [...events].sort(() => random() - 0.5)
  for (let i = 0; i < shuffled.length; i += batchSize)
    await store.insertEvents(shuffled.slice(i, i + batchSize))
}

/**
 * The usage of the hour [hourStartMs, +1 h) as it was a day earlier (the same hour of day; a customer that started
 * days ago has it too): demo data
 * ends at its endMs, and a run of the hour after it would otherwise judge every series' usage stopping (the recent
 * window's drop). For tests of what the next, ordinary hour does.
 */
export function sameHourYesterday(dataset: DemoDataset, hourStartMs: number): Record<string, unknown>[] {
  const DAY = 24 * 3_600_000
  const from = hourStartMs - DAY
  const out: Record<string, unknown>[] = []
  for (const batch of dataset.batches()) {
    for (const e of batch) {
      if (e.timestampMs < from || e.timestampMs >= from + 3_600_000) continue
      const event = {
        ...e,
        timestampMs: e.timestampMs + DAY,
        eventId: e.eventId ? `${e.eventId}-next` : e.eventId,
      }
      out.push(toApiEvent(event))
    }
  }
  return out
}

/** A small deterministic generator in [0, 1) (a test's data must be the same on every run). */
export function seededRandom(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    return s / 2 ** 31
  }
}

export function tempDataDir(prefix = 'meterflow-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export function testConfig(dataDir: string, overrides: ConfigInput = {}): Config {
  return loadConfig(
    {},
    {
      dataDir,
      logLevel: 'warn',
      demo: { enabled: false },
      job: { schedulerEnabled: false },
      // Tests not about access control call the API anonymously (allowed on loopback) and unthrottled;
      // test/auth*.test.ts switch both back on.
      auth: { mode: 'off' },
      rateLimit: { max: 1_000_000 },
      ...overrides,
      // Quiet tests: the console channel only where a test switches it on.
      alerts: { ...overrides.alerts, console: { enabled: false, ...overrides.alerts?.console } },
    },
  )
}

/** A clock the test moves by hand, so "the last 24 hours" means the same thing on every run. */
export class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms
  }
}

export interface Harness {
  meterflow: MeterFlow
  app: FastifyInstance
  clock: ManualClock
  close(): Promise<void>
}

/** A real MeterFlow on the embedded engine in a fresh data directory, with its HTTP app (not listening). */
export async function openHarness(nowMs: number, overrides: ConfigInput = {}): Promise<Harness> {
  const data = tempDataDir()
  const clock = new ManualClock(nowMs)
  const meterflow = await openMeterFlow(testConfig(data.dir, overrides), { clock })
  const app = await buildServer(meterflow)
  return {
    meterflow,
    app,
    clock,
    async close() {
      await app.close()
      await meterflow.close()
      data.remove()
    },
  }
}
