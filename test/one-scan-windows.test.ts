import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import type { UsageEvent } from '../src/domain/events.js'
import { ALL_CUSTOMERS, type CustomerRange } from '../src/domain/shard.js'
import type { SeriesWindows } from '../src/ports.js'
import { insertShuffled, seededRandom, tempDataDir, testConfig } from './helpers.js'
import { twoScanWindows } from './two-scan-windows.js'

// The job's one scan of the rollup (series-windows.ts: days, same hours and recent hours from one query) against
// the two-query path it replaced (two-scan-windows.ts, main's code kept as the reference): the same chunks, the same
// series, the same numbers, on data with gaps, series that start mid-window or stop before the recent hours, both
// aggregations, hours spread over several unmerged parts, late events that land after the windows were first read,
// a shard range, and a recent window longer than the days. Without the hour window (hourWindow: false) the read is
// the same with `hourly` cut to the current hour.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const DB = 'onescan'
const METRICS = [
  { name: 'api_calls', aggregation: 'sum' as const },
  { name: 'bandwidth', aggregation: 'sum' as const },
  { name: 'storage_peak', aggregation: 'max' as const },
]
const SLOT = Date.UTC(2026, 10, 25, 13)
const PER_CHUNK = 2

/** Each customer's first and last hour with usage (relative to the slot) and the share of hours that have any. */
const CUSTOMERS: Record<string, { from: number; to: number; density: number }> = {
  // The whole 32 days and the hour after the slot (not a window's).
  full: { from: -32 * DAY, to: HOUR, density: 1 },
  // Most hours missing, and a run of empty days.
  gaps: { from: -32 * DAY, to: 0, density: 0.3 },
  // Starts 10 days back: older days absent, not zeros.
  midmonth: { from: -10 * DAY - 5 * HOUR, to: 0, density: 0.9 },
  // Starts inside the recent hours.
  recent: { from: -30 * HOUR, to: 0, density: 0.8 },
  // Stops before the recent hours: its days are there, its recent hours are none ([]).
  stopped: { from: -20 * DAY, to: -200 * HOUR, density: 0.9 },
  // Only in the day before the slot, between the short and the long recent window.
  between: { from: -70 * HOUR, to: -50 * HOUR, density: 1 },
  // Only the slot's last hour.
  current: { from: -HOUR, to: 0, density: 1 },
}

const data = tempDataDir()
let client: ClickHouseClient
let store: ClickHouseUsageStore
let eventId = 0

function usage(random: () => number, late: boolean): UsageEvent[] {
  const events: UsageEvent[] = []
  for (const [customerId, { from, to, density }] of Object.entries(CUSTOMERS)) {
    for (let t = SLOT + from; t < SLOT + to; t += HOUR) {
      // gaps: days 12..15 back are empty.
      if (customerId === 'gaps' && t >= SLOT - 15 * DAY && t < SLOT - 12 * DAY) continue
      if (random() >= (late ? density / 4 : density)) continue
      for (const { name } of METRICS) {
        const n = 1 + Math.floor(random() * 3)
        for (let j = 0; j < n; j++) {
          events.push({
            eventId: `e${++eventId}`,
            customerId,
            metric: name,
            // Quarters: sums are exact in any order, so both paths must agree to the last bit.
            value: Math.floor(random() * 4000) / 4,
            timestampMs: t + Math.floor(random() * HOUR),
          })
        }
      }
    }
  }
  return events
}

// Shuffled, in several batches: one hour's rows land in several parts of the rollup.
const insert = (events: UsageEvent[], random: () => number) => insertShuffled(store, events, random, 2_000)

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, DB)
  store = new ClickHouseUsageStore(client, DB, PER_CHUNK)
  const random = seededRandom(14)
  await insert(usage(random, false), random)
}, 120_000)
afterAll(async () => {
  await client?.close()
  data.remove()
})

/** Chunk by chunk, the series in a fixed order (a GROUP BY's output order is no contract). */
const ordered = (chunks: SeriesWindows[][]) =>
  chunks.map((c) =>
    [...c].sort((a, b) => `${a.customerId}/${a.metric}`.localeCompare(`${b.customerId}/${b.metric}`)),
  )

/** The store's values are views of one typed array per reply; compared as plain arrays with the oracle's. */
const plain = (s: SeriesWindows): SeriesWindows => ({
  ...s,
  daily: Array.from(s.daily),
  hourly: Array.from(s.hourly),
  ...(s.recent ? { recent: Array.from(s.recent) } : {}),
})

async function oneScan(
  days: number,
  hours: number,
  shard: CustomerRange,
  hourWindow = true,
): Promise<SeriesWindows[][]> {
  const chunks: SeriesWindows[][] = []
  for await (const chunk of store.seriesWindows(SLOT, days, METRICS, shard, {
    recentHours: hours,
    hourWindow,
  }))
    chunks.push(chunk.map(plain))
  return ordered(chunks)
}
/** What a read without the hour window must give: the same, with `hourly` holding the current hour alone. */
const currentHourOnly = (chunks: SeriesWindows[][]) =>
  chunks.map((c) => c.map((s) => ({ ...s, hourly: s.hourly.slice(0, 1) })))
const twoScans = async (days: number, hours: number, shard: CustomerRange) =>
  ordered(await twoScanWindows(client, DB, SLOT, days, METRICS, PER_CHUNK, shard, hours))

const CASES: { name: string; days: number; hours: number; shard: CustomerRange }[] = [
  { name: 'the defaults (30 days, 168 hours)', days: 30, hours: 168, shard: ALL_CUSTOMERS },
  { name: 'the longest recent window', days: 30, hours: 720, shard: ALL_CUSTOMERS },
  { name: 'a shard range', days: 30, hours: 168, shard: { from: 'current', to: 'recent' } },
  { name: 'recent hours past the days (1 day, 60 hours)', days: 1, hours: 60, shard: ALL_CUSTOMERS },
  { name: 'no recent hours', days: 7, hours: 0, shard: ALL_CUSTOMERS },
]

describe('the one-scan series windows', () => {
  it.each(CASES)('equal the two-query path: $name', async ({ days, hours, shard }) => {
    const expected = await twoScans(days, hours, shard)
    expect(expected.flat().length).toBeGreaterThan(0)
    expect(await oneScan(days, hours, shard)).toEqual(expected)
    // Without the hour window (the default detector): every other number the same, down to the current hour's.
    expect(await oneScan(days, hours, shard, false)).toEqual(currentHourOnly(expected))
  })

  it('cover what the data holds (the comparison is not between two empty answers)', async () => {
    const all = (await oneScan(30, 168, ALL_CUSTOMERS)).flat()
    const of = (customerId: string) => all.filter((s) => s.customerId === customerId)
    // 'between' (50-70 hours back) is within 30 days; everyone has every metric.
    expect(all).toHaveLength(Object.keys(CUSTOMERS).length * METRICS.length)
    expect(of('stopped').every((s) => s.recent?.length === 0)).toBe(true)
    expect(of('full').every((s) => s.recent?.length === 168 && s.recent.every((v) => v > 0))).toBe(true)
    expect(of('current').every((s) => s.recent?.length === 0 && (s.hourly[0] ?? 0) > 0)).toBe(true)
    // 1 day + 60 hours: 'between' has recent hours but no day in the 48 hours the days cover: not a series.
    expect((await oneScan(1, 60, ALL_CUSTOMERS)).flat().some((s) => s.customerId === 'between')).toBe(false)
  })

  it('read one chunk ahead: a caller that stops after the first chunk leaves the store answering as before', async () => {
    const expected = await oneScan(30, 168, ALL_CUSTOMERS)
    expect(expected.length).toBeGreaterThan(2)
    const windows = store.seriesWindows(SLOT, 30, METRICS, ALL_CUSTOMERS, { recentHours: 168 })
    for await (const first of windows) {
      expect(ordered([first.map(plain)])).toEqual(expected.slice(0, 1))
      // The run stops here (out of time) while the second chunk's read is in flight.
      break
    }
    expect(await oneScan(30, 168, ALL_CUSTOMERS)).toEqual(expected)
  })

  it('still equal the two-query path after late events land in hours already read', async () => {
    const before = await oneScan(30, 168, ALL_CUSTOMERS)
    const random = seededRandom(15)
    eventId += 1_000_000
    await insert(usage(random, true), random)
    const after = await oneScan(30, 168, ALL_CUSTOMERS)
    // The late events moved the numbers (else this would compare the same reads twice).
    expect(after).not.toEqual(before)
    for (const { days, hours, shard } of CASES) {
      const expected = await twoScans(days, hours, shard)
      expect(await oneScan(days, hours, shard)).toEqual(expected)
      expect(await oneScan(days, hours, shard, false)).toEqual(currentHourOnly(expected))
    }
  })
})
