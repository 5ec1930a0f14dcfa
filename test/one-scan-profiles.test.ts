import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import { chunkShapeReader, chunkShapes, type SeriesShape, seriesKey } from '../src/app/chunk-shapes.js'
import { embeddedVectorIndex } from '../src/app/embedded-vector-index.js'
import type { UsageEvent } from '../src/domain/events.js'
import { ALL_CUSTOMERS, type CustomerRange } from '../src/domain/shard.js'
import { DEFAULT_SHAPE_CONFIG, type ShapeConfig } from '../src/domain/signals/shape/shape-settings.js'
import type { ProfileChunk, SeriesWindows, VectorIndex } from '../src/ports.js'
import { insertShuffled, seededRandom, tempDataDir, testConfig } from './helpers.js'
import { insertAtProfiles } from './insert-at-profiles.js'

// The shape profiles' one scan of the rollup (shape-profiles.ts: one -Resample array per series, RowBinary, the next
// chunk read ahead) against the read it replaced (insert-at-profiles.ts, main's code kept as the reference): the
// same chunks and ranges, the same series, the same numbers, on data with gaps and an empty week, a series younger
// than the baseline, weekday-only and weekend-only customers judged on weekday and weekend slots, both
// aggregations, hours spread over several unmerged parts, late events landing after a first read, and a shard
// range. Then the job's shape verdicts read once per range (chunkShapeReader) against the per-chunk path over the
// old read, with the volume's chunks cut differently from the profiles'.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY
const DB = 'onescanprofiles'
const METRICS = [
  { name: 'api_calls', aggregation: 'sum' as const },
  { name: 'bandwidth', aggregation: 'sum' as const },
  { name: 'storage_peak', aggregation: 'max' as const },
]
const SLOTS = {
  // Wednesday 13:00: a window across two weekdays.
  wednesday: Date.UTC(2026, 10, 25, 13),
  // Monday 00:00: the window is Sunday, a weekend day, and so are its baselines.
  monday: Date.UTC(2026, 10, 23, 0),
  // Saturday 13:00: Friday afternoon into Saturday.
  saturday: Date.UTC(2026, 10, 28, 13),
}
const FIRST_SLOT = Math.min(...Object.values(SLOTS))
const LAST_SLOT = Math.max(...Object.values(SLOTS))
const MAX_WEEKS = 12
const PER_CHUNK = 2

const weekend = (t: number) => [0, 6].includes(new Date(t).getUTCDay())

/** Each customer's usage: its first and end hour (ms), the share of hours with any, and which hours. */
const CUSTOMERS: Record<
  string,
  { from: number; to: number; density: number; when?: (t: number) => boolean }
> = {
  // Every week the longest baseline reaches, and the hour after the last slot (no window's).
  full: { from: FIRST_SLOT - MAX_WEEKS * WEEK - 2 * DAY, to: LAST_SLOT + HOUR, density: 1 },
  // Most hours missing, and an empty stretch that takes out the Wednesday slot's second week.
  gaps: {
    from: FIRST_SLOT - MAX_WEEKS * WEEK - 2 * DAY,
    to: LAST_SLOT,
    density: 0.3,
    when: (t) => t < SLOTS.wednesday - 16 * DAY || t >= SLOTS.wednesday - 13 * DAY,
  },
  // Ten days old on Wednesday, younger than the 4-week baseline: its older weeks are zeros, not absent.
  young: { from: SLOTS.wednesday - 10 * DAY, to: LAST_SLOT, density: 0.9 },
  // Weekends only: no series on a weekday slot whose windows reach no weekend.
  weekender: { from: FIRST_SLOT - 5 * WEEK, to: LAST_SLOT, density: 0.9, when: weekend },
  // Business days, business hours only.
  office: {
    from: FIRST_SLOT - 5 * WEEK,
    to: LAST_SLOT,
    density: 1,
    when: (t) => !weekend(t) && new Date(t).getUTCHours() >= 9 && new Date(t).getUTCHours() < 17,
  },
  // Only days between the Wednesday slot's windows (2..6 days back): no series for it.
  between: { from: SLOTS.wednesday - 6 * DAY, to: SLOTS.wednesday - 2 * DAY, density: 1 },
  // Only the last slot's last hour.
  last: { from: LAST_SLOT - HOUR, to: LAST_SLOT, density: 1 },
}

const data = tempDataDir()
let client: ClickHouseClient
let store: ClickHouseUsageStore
let eventId = 0

function usage(random: () => number, late: boolean): UsageEvent[] {
  const events: UsageEvent[] = []
  for (const [customerId, { from, to, density, when }] of Object.entries(CUSTOMERS)) {
    for (let t = from; t < to; t += HOUR) {
      if (when && !when(t)) continue
      if (random() >= (late ? density / 4 : density)) continue
      for (const { name } of METRICS) {
        if (random() < 0.3) continue
        const n = 1 + Math.floor(random() * 3)
        for (let j = 0; j < n; j++) {
          events.push({
            eventId: `e${++eventId}`,
            customerId,
            metric: name,
            // Quarters: sums are exact in any order, so both reads must agree to the last bit.
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
const insert = (events: UsageEvent[], random: () => number) => insertShuffled(store, events, random, 5_000)

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
  await migrate(client, DB)
  store = new ClickHouseUsageStore(client, DB, PER_CHUNK)
  const random = seededRandom(6)
  await insert(usage(random, false), random)
}, 180_000)
afterAll(async () => {
  await client?.close()
  data.remove()
})

/** Chunk by chunk, the series in a fixed order (a GROUP BY's output order is no contract). */
const ordered = (chunks: ProfileChunk[]) =>
  chunks.map(({ range, profiles }) => ({
    range,
    profiles: [...profiles].sort((a, b) =>
      `${a.customerId}/${a.metric}`.localeCompare(`${b.customerId}/${b.metric}`),
    ),
  }))

async function oneScan(slot: number, weeks: number, shard: CustomerRange): Promise<ProfileChunk[]> {
  const chunks: ProfileChunk[] = []
  for await (const chunk of store.shapeProfiles(slot, weeks, METRICS, shard)) chunks.push(chunk)
  return ordered(chunks)
}
const insertAt = async (slot: number, weeks: number, shard: CustomerRange) =>
  ordered(await insertAtProfiles(client, DB, slot, weeks, METRICS, PER_CHUNK, shard))

const CASES = Object.entries(SLOTS).flatMap(([day, slot]) =>
  [0, 1, 4, MAX_WEEKS].map((weeks) => ({ name: `${day}, ${weeks} weeks`, slot, weeks })),
)
const SHARD = { from: 'full', to: 'weekender' }

describe('the one-scan shape profiles', () => {
  it.each(CASES)('equal the groupArrayInsertAt read: $name', async ({ slot, weeks }) => {
    for (const shard of [ALL_CUSTOMERS, SHARD]) {
      const expected = await insertAt(slot, weeks, shard)
      expect(expected.flatMap((c) => c.profiles).length).toBeGreaterThan(0)
      expect(await oneScan(slot, weeks, shard)).toEqual(expected)
    }
  })

  it('cover what the data holds (the comparison is not between two empty answers)', async () => {
    const customers = async (slot: number, weeks: number) =>
      new Set((await oneScan(slot, weeks, ALL_CUSTOMERS)).flatMap((c) => c.profiles.map((p) => p.customerId)))
    const wednesday = await customers(SLOTS.wednesday, 4)
    expect(wednesday.has('between')).toBe(false)
    // Tuesday 13:00 to Wednesday 13:00 and the same hours of earlier weeks: never a weekend hour.
    expect(wednesday.has('weekender')).toBe(false)
    expect(wednesday.has('office')).toBe(true)
    // Sunday and earlier Sundays: the weekender, not the office.
    const monday = await customers(SLOTS.monday, 4)
    expect(monday.has('weekender')).toBe(true)
    expect(monday.has('office')).toBe(false)
    const all = (await oneScan(SLOTS.wednesday, 4, ALL_CUSTOMERS)).flatMap((c) => c.profiles)
    const young = all.filter((p) => p.customerId === 'young')
    expect(young.length).toBeGreaterThan(0)
    // Ten days old: weeks 2..4 of its baseline are zeros, week 1 is not.
    for (const p of young) {
      expect(
        p.baseline
          .slice(1)
          .flat()
          .every((v) => v === 0),
      ).toBe(true)
      expect(p.baseline[0]?.some((v) => v > 0)).toBe(true)
    }
    // The gap takes out the second week's window of 'gaps' (Wednesday slot: 14..15 days back).
    for (const p of all.filter((s) => s.customerId === 'gaps')) {
      expect(p.baseline[1]?.every((v) => v === 0)).toBe(true)
    }
    // An hour of the rollup spread over unmerged parts: the sums had something to fold.
    const parts = await client.query({
      query: `SELECT count() FROM (SELECT metric, customer_id, hour FROM {db:Identifier}.usage_hourly
        GROUP BY metric, customer_id, hour HAVING count() > 1)`,
      query_params: { db: DB },
      format: 'JSONCompactEachRow',
    })
    expect(Number((await parts.json<[string]>())[0]?.[0])).toBeGreaterThan(0)
  })

  it('read one chunk ahead: a caller that stops after the first chunk leaves the store answering as before', async () => {
    const expected = await oneScan(SLOTS.wednesday, 4, ALL_CUSTOMERS)
    expect(expected.length).toBeGreaterThan(2)
    for await (const first of store.shapeProfiles(SLOTS.wednesday, 4, METRICS, ALL_CUSTOMERS)) {
      expect(ordered([first])).toEqual(expected.slice(0, 1))
      // The run stops here (out of time) while the second chunk's read is in flight.
      break
    }
    expect(await oneScan(SLOTS.wednesday, 4, ALL_CUSTOMERS)).toEqual(expected)
  })

  it('give the job the shape verdicts of the per-chunk path over the old read, from the windows scan or per chunk', async () => {
    // The old path: one profile read over exactly each volume chunk's customers (the embedded index then).
    const oldIndex: VectorIndex = {
      kind: 'insert-at',
      async *profiles(request) {
        for (const chunk of await insertAtProfiles(
          client,
          DB,
          request.slot,
          request.weeks,
          request.metrics,
          1000,
          request.range,
        ))
          yield chunk.profiles
      },
      close: async () => undefined,
    }
    // Read with the windows (the embedded index: the same scan), or asked of the index per chunk (an index whose
    // profiles are not the usage store's own, e.g. Redis; the on-demand check) through the one-scan read.
    const embedded = embeddedVectorIndex(store)
    const indexes = [embedded, { ...embedded, fromUsageScan: false }]
    const configs: ShapeConfig[] = [
      DEFAULT_SHAPE_CONFIG,
      {
        ...DEFAULT_SHAPE_CONFIG,
        variant: 'nearest',
        baselineWeeks: MAX_WEEKS,
        minBaselineWeeks: 1,
        minDailyVolume: 500,
      },
    ]
    let judged = 0
    for (const slot of Object.values(SLOTS)) {
      for (const shard of [ALL_CUSTOMERS, SHARD]) {
        // 7 days: the shape's weeks reach past the volume's days (the scan goes further back for them only).
        for (const days of [30, 7]) {
          const volume: SeriesWindows[][] = []
          for await (const chunk of store.seriesWindows(slot, days, METRICS, shard)) volume.push(chunk)
          expect(volume.length).toBeGreaterThan(1)
          for (const config of configs) {
            // The windows with the profiles: the same windows, and the profiles the old read gives.
            const withProfiles: SeriesWindows[][] = []
            for await (const chunk of store.seriesWindows(slot, days, METRICS, shard, {
              shapeWeeks: config.baselineWeeks,
            }))
              withProfiles.push(chunk)
            // A chunk's series in a fixed order: the engine's output order is no contract (both aggregations'
            // series come from one UNION ALL).
            const byKey = (c: SeriesWindows[]) =>
              [...c].sort((a, b) =>
                `${a.customerId}/${a.metric}`.localeCompare(`${b.customerId}/${b.metric}`),
              )
            expect(withProfiles.map((c) => byKey(c).map(({ profiles, ...windows }) => windows))).toEqual(
              volume.map(byKey),
            )
            for (const index of indexes) {
              const reader = chunkShapeReader(index, slot, config, METRICS)
              for (const [i, chunk] of withProfiles.entries()) {
                const expected = await chunkShapes(oldIndex, slot, config, METRICS, volume[i] ?? [])
                const shapes = await reader.shapesOf(chunk)
                expect(shapes).toHaveLength(chunk.length)
                const got = new Map<string, SeriesShape>()
                for (const [j, s] of chunk.entries()) {
                  const shape = shapes[j]
                  if (shape) got.set(seriesKey(s.customerId, s.metric), shape)
                }
                expect(got).toEqual(expected)
                judged += [...got.values()].filter((s) => s.evaluation.verdict.status === 'ok').length
              }
            }
          }
        }
      }
    }
    expect(judged).toBeGreaterThan(20)
  })

  it('still equal the groupArrayInsertAt read after late events land in hours already read', async () => {
    const before = await oneScan(SLOTS.wednesday, 4, ALL_CUSTOMERS)
    const random = seededRandom(7)
    eventId += 10_000_000
    await insert(usage(random, true), random)
    const after = await oneScan(SLOTS.wednesday, 4, ALL_CUSTOMERS)
    // The late events moved the numbers (else this would compare the same reads twice).
    expect(after).not.toEqual(before)
    for (const { slot, weeks } of CASES) {
      for (const shard of [ALL_CUSTOMERS, SHARD]) {
        expect(await oneScan(slot, weeks, shard)).toEqual(await insertAt(slot, weeks, shard))
      }
      // The profiles the windows' scan carries: the same, null where the old read has no series.
      const old = new Map(
        (await insertAt(slot, weeks, ALL_CUSTOMERS))
          .flatMap((c) => c.profiles)
          .map((p) => [`${p.customerId}/${p.metric}`, { current: p.current, baseline: p.baseline }]),
      )
      let carried = 0
      for await (const chunk of store.seriesWindows(slot, 30, METRICS, ALL_CUSTOMERS, {
        shapeWeeks: weeks,
      })) {
        for (const s of chunk) {
          // The job's profiles are views of the reply's values: compared as plain arrays.
          const carriedProfiles = s.profiles
            ? {
                current: Array.from(s.profiles.current),
                baseline: s.profiles.baseline.map((b) => Array.from(b)),
              }
            : null
          expect(carriedProfiles, `${s.customerId}/${s.metric}`).toEqual(
            old.get(`${s.customerId}/${s.metric}`) ?? null,
          )
          if (s.profiles) carried++
        }
      }
      expect(carried).toBe(old.size)
    }
  })
})
