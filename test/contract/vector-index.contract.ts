import { describe, expect, it } from 'vitest'
import { chunkShapes, type SeriesShape } from '../../src/app/chunk-shapes.js'
import type { UsageEvent } from '../../src/domain/events.js'
import { profileFromHourly, profileWindows } from '../../src/domain/signals/shape/profile.js'
import { DEFAULT_SHAPE_CONFIG, type ShapeConfig } from '../../src/domain/signals/shape/shape-settings.js'
import { evaluateShape } from '../../src/domain/signals/shape-signal.js'
import type { UsageStore, VectorIndex } from '../../src/ports.js'

// The behaviour every shape VectorIndex must show: through chunkShapes (the job's and the check's entry point), the
// same verdicts as the shape signal computed directly from the hourly values the data was generated from, on
// normal days, a shifted day, too few weeks, low volume, missing days and late events, for a window across midnight
// and a whole-day window, in both variants; and again on a second run (Redis then answers from its own days).

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** A window across midnight ([Nov 24 06:00, Nov 25 06:00)) and a whole UTC day (Nov 25). */
export const CONTRACT_SLOTS = [Date.UTC(2026, 10, 25, 6), Date.UTC(2026, 10, 26, 0)] as const
const HISTORY_DAYS = 50
const METRICS = [{ name: 'api_calls', aggregation: 'sum' as const }]

/** Customers and what their data is about (each a case of the contract). */
export const CASES = {
  normal: 'business hours every day',
  shifted: 'business hours, but the last 24 h moved to the night',
  young: 'one week of history only: too few baseline days',
  quiet: 'a shape, but 40 a day: low volume',
  gappy: 'business hours with the days 2 and 3 weeks back missing',
  flat: 'the same every hour, every day',
} as const
export type Customer = keyof typeof CASES

const lastDay = Math.max(...CONTRACT_SLOTS)

/** Hourly usage of a customer at hour start `t` (0: no event). */
export function usageAt(customer: Customer, t: number): number {
  const hour = new Date(t).getUTCHours()
  const age = lastDay - t
  const business = hour >= 9 && hour < 17 ? 100 + ((Math.floor(t / DAY) * 7 + hour * 3) % 11) - 5 : 0
  switch (customer) {
    case 'normal':
      return business
    case 'shifted': {
      // The last 48 h (both slots' windows) carry the day's volume at night.
      if (age > 2 * DAY) return business
      return hour >= 1 && hour < 5 ? 200 : 0
    }
    case 'young':
      return age <= 9 * DAY ? business : 0
    case 'quiet':
      return hour >= 9 && hour < 17 ? 5 : 0
    case 'gappy': {
      const inGap = CONTRACT_SLOTS.some((slot) =>
        [2, 3].some((w) => t >= slot - w * 7 * DAY - 2 * DAY && t < slot - w * 7 * DAY + DAY),
      )
      return inGap ? 0 : business
    }
    case 'flat':
      return 30
  }
}

export function contractEvents(): UsageEvent[] {
  const events: UsageEvent[] = []
  const start = lastDay - HISTORY_DAYS * DAY
  for (const customer of Object.keys(CASES) as Customer[]) {
    for (let t = start; t < lastDay; t += HOUR) {
      const value = usageAt(customer, t)
      // Two events per hour, so the rollup adds up.
      if (value > 0)
        for (const [i, part] of [Math.floor(value / 2), value - Math.floor(value / 2)].entries())
          events.push({
            eventId: `${customer}-${t}-${i}`,
            customerId: customer,
            metric: 'api_calls',
            value: part,
            timestampMs: t + i * 60_000,
          })
    }
  }
  return events
}

/** The verdict the shape signal gives on the generated hourly values themselves. */
function directVerdict(customer: Customer, slot: number, config: ShapeConfig, late: Map<number, number>) {
  const windows = profileWindows(slot, config.baselineWeeks)
  const points = (w: { start: number; end: number }) =>
    Array.from({ length: 24 }, (_, i) => {
      const hour = w.start + i * HOUR
      return { hour, value: usageAt(customer, hour) + (late.get(hour) ?? 0) }
    })
  const profile = (w: { start: number; end: number }) => profileFromHourly(points(w), w)
  return evaluateShape(
    { current: profile(windows.current), baseline: windows.baseline.map(profile), windowStart: slot - DAY },
    config,
  )
}

function expectSameVerdict(
  got: SeriesShape | undefined,
  want: ReturnType<typeof directVerdict>,
  label: string,
) {
  if (want.reason === 'empty_day' && got === undefined) return
  expect(got, label).toBeDefined()
  const g = (got as SeriesShape).evaluation
  expect(
    {
      status: g.verdict.status,
      isAnomaly: g.verdict.isAnomaly,
      severity: g.verdict.severity,
      reason: g.reason,
    },
    label,
  ).toEqual({
    status: want.verdict.status,
    isAnomaly: want.verdict.isAnomaly,
    severity: want.verdict.severity,
    reason: want.reason,
  })
  if (want.fields && g.fields) {
    // float32 in Redis: similarities agree to 1e-6, the days used exactly.
    expect(g.fields.shapeSimilarity, label).toBeCloseTo(want.fields.shapeSimilarity, 6)
    expect(g.fields.meanSimilarity, label).toBeCloseTo(want.fields.meanSimilarity, 6)
    expect(g.fields.nearestSimilarity, label).toBeCloseTo(want.fields.nearestSimilarity, 6)
    expect(g.fields.baselineWeeks, label).toBe(want.fields.baselineWeeks)
    expect(g.fields.deviationHour, label).toBe(want.fields.deviationHour)
  }
}

export interface VectorIndexFixture {
  index: VectorIndex
  /** The usage store the index reads (fresh database holding contractEvents()). */
  usage: UsageStore
  cleanup(): Promise<void>
}

const series = (Object.keys(CASES) as Customer[]).map((customerId) => ({ customerId, metric: 'api_calls' }))

export function describeVectorIndexContract(name: string, open: () => Promise<VectorIndexFixture>): void {
  describe(`VectorIndex contract: ${name}`, () => {
    for (const variant of ['mean', 'nearest'] as const) {
      it(`gives the verdicts of the shape signal on the generated data (${variant}), twice in a row`, async () => {
        const fixture = await open()
        try {
          const config = { ...DEFAULT_SHAPE_CONFIG, variant }
          for (const round of [1, 2])
            for (const slot of CONTRACT_SLOTS) {
              const shapes = await chunkShapes(fixture.index, slot, config, METRICS, series)
              for (const { customerId } of series) {
                const want = directVerdict(customerId as Customer, slot, config, new Map())
                expectSameVerdict(
                  shapes.get(`${customerId}\u0000api_calls`),
                  want,
                  `${customerId} @ ${new Date(slot).toISOString()} round ${round}`,
                )
              }
              // The cases are what they claim (so that a broken generator cannot make the contract trivial).
              const verdict = (c: Customer) => shapes.get(`${c}\u0000api_calls`)?.evaluation
              expect(verdict('normal')?.verdict.isAnomaly).toBe(false)
              expect(verdict('flat')?.verdict.isAnomaly).toBe(false)
              expect(verdict('shifted')?.verdict.isAnomaly).toBe(true)
              expect(verdict('gappy')?.fields?.baselineWeeks).toBe(2)
              expect(verdict('young')?.reason).toBe('too_few_baseline_days')
              expect(verdict('quiet')?.reason).toBe('low_volume')
            }
        } finally {
          await fixture.cleanup()
        }
      })
    }

    it('follows late events for a day the runs still re-read: a later baseline holds them', async () => {
      const fixture = await open()
      try {
        const config = DEFAULT_SHAPE_CONFIG
        const whole = CONTRACT_SLOTS[1] // window Nov 25; Nov 18 is its first baseline day
        const late = new Map<number, number>()
        for (let h = 0; h < 4; h++) late.set(Date.UTC(2026, 10, 18, 20 + h), 900)
        // The run of Nov 19 01:00 stores Nov 18 (complete); late events for its night arrive; the next run re-reads it.
        await chunkShapes(fixture.index, Date.UTC(2026, 10, 19, 1), config, METRICS, series)
        await fixture.usage.insertEvents(
          [...late].map(([t, value]) => ({
            eventId: `late-${t}`,
            customerId: 'normal',
            metric: 'api_calls',
            value,
            timestampMs: t,
          })),
        )
        await chunkShapes(fixture.index, Date.UTC(2026, 10, 19, 2), config, METRICS, series)
        const shapes = await chunkShapes(fixture.index, whole, config, METRICS, series)
        const want = directVerdict('normal', whole, config, late)
        const without = directVerdict('normal', whole, config, new Map())
        // The late events move the similarity far more than the tolerance: a stale day would show.
        expect(
          Math.abs((want.fields?.meanSimilarity ?? 0) - (without.fields?.meanSimilarity ?? 0)),
        ).toBeGreaterThan(1e-3)
        expectSameVerdict(
          shapes.get('normal\u0000api_calls'),
          want,
          'normal with late events in a baseline day',
        )
      } finally {
        await fixture.cleanup()
      }
    })
  })
}
