import { spawn } from 'node:child_process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { type RunningService, startService } from '../src/serve.js'
import { tempDataDir, testConfig } from './helpers.js'
import { steadyDaily } from './usage-fixtures.js'

// A bounded load test on loopback: the real service (as `npm start` runs it) takes sustained ingest from several
// concurrent connections (fetch loops in a process of their own: test/load-client.ts) while the detection job
// runs slot after slot. Every accepted event must be stored once, no request may fail, the heap must not grow.

const CONNECTIONS = 4
const LOAD_SECONDS = 20
const EVENTS_PER_REQUEST = 100
const CUSTOMERS = 20
/** Heap growth allowed between start and end, both measured after a full GC. */
const HEAP_MARGIN_BYTES = 100 * 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const data = tempDataDir()
let service: RunningService
let preloaded = 0

beforeAll(async () => {
  service = await startService(testConfig(data.dir, { http: { host: '127.0.0.1', port: 0 } }))
  // A month of history for the load's customers, so that every run has baselines to judge.
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `load-${i}`)
  const history = steadyDaily(customers, floorToHour(Date.now()) - 48 * HOUR_MS)
  preloaded = (await service.meterflow.ingest(history)).stored
})
afterAll(async () => {
  await service?.stop()
  data.remove()
})

interface LoadResult {
  received: number
  stored: number
  duplicates: number
  resentEvents: number
  badReplies: number
  errors: number
  statuses: Record<string, number>
  requests: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  requestsPerSecond: number
  eventsPerSecond: number
  seconds: number
}

function runLoad(): Promise<LoadResult> {
  const args = [service.url, CONNECTIONS, LOAD_SECONDS, EVENTS_PER_REQUEST, CUSTOMERS].map(String)
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/load-client.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`load client exited ${code}: ${err}`))
      else resolve(JSON.parse(line) as LoadResult)
    })
  })
}

function memory() {
  gc()
  const { rss, heapUsed } = process.memoryUsage()
  return { rss, heapUsed }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024)

describe('sustained ingest while the detection job runs', () => {
  it('stores every accepted event once, fails no request, and keeps the heap flat', async () => {
    const start = memory()
    let loading = true
    const load = runLoad().finally(() => {
      loading = false
    })
    // The job, slot after slot (the current hour, then the 23 before it, then again), for as long as the load lasts.
    const runs: { status: number; run: string; ms: number }[] = []
    const currentHour = floorToHour(Date.now())
    for (let k = 0; loading; k = (k + 1) % 24) {
      const began = Date.now()
      const res = await fetch(`${service.url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ slot: new Date(currentHour - k * HOUR_MS).toISOString() }),
      })
      const body = (await res.json()) as { status: string }
      runs.push({ status: res.status, run: body.status, ms: Date.now() - began })
    }
    const result = await load
    const storedInStore = (await service.meterflow.usage.countEvents()) - preloaded
    // Every series' rollup against its raw events, summed: the job reads the rollup.
    let rollupEvents = 0
    let rawEvents = 0
    const span = {
      startMs: floorToHour(Date.now()) - 60 * 24 * HOUR_MS,
      endMs: floorToHour(Date.now()) + HOUR_MS,
    }
    for (let i = 0; i < CUSTOMERS; i++) {
      const usage = service.meterflow.usage
      const [rollup] = await usage.aggregateWindows(`load-${i}`, 'api_calls', 'sum', [span])
      const [raw] = await usage.aggregateWindows(`load-${i}`, 'api_calls', 'sum', [
        { ...span, startMs: span.startMs + 1 },
      ])
      rollupEvents += rollup?.events ?? 0
      rawEvents += raw?.events ?? 0
    }
    const end = memory()

    const figures = {
      seconds: result.seconds,
      requests: result.requests,
      requestsPerSecond: result.requestsPerSecond,
      eventsPerSecond: result.eventsPerSecond,
      eventsAccepted: result.stored,
      eventsStored: storedInStore,
      duplicatesReported: result.duplicates,
      resentEvents: result.resentEvents,
      statuses: result.statuses,
      latencyMs: result.latencyMs,
      runs: runs.length,
      runMs: runs.map((r) => r.ms),
      rssMb: { start: mb(start.rss), end: mb(end.rss) },
      heapUsedMb: { start: mb(start.heapUsed), end: mb(end.heapUsed) },
    }
    console.log(`load figures: ${JSON.stringify(figures)}`)

    expect(result.requests).toBeGreaterThan(0)
    expect(result.statuses).toEqual({ 200: result.requests })
    expect(result.errors + result.badReplies).toBe(0)
    expect(result.stored).toBeGreaterThan(0)
    expect(storedInStore).toBe(result.stored)
    expect(result.received).toBe(result.stored + result.duplicates)
    expect(result.duplicates).toBe(result.resentEvents)
    expect(rollupEvents).toBe(rawEvents)
    expect(rawEvents).toBe(preloaded + storedInStore)
    expect(runs.length).toBeGreaterThan(0)
    expect(runs.filter((r) => r.status !== 200 || r.run !== 'completed')).toEqual([])
    expect(end.heapUsed).toBeLessThan(start.heapUsed + HEAP_MARGIN_BYTES)
  }, 120_000)
})
