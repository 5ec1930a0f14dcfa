import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS } from '../../time.js'
import { cosineSimilarity, meanShape, PROFILE_HOURS, profileFromHourly, profileWindows } from './profile.js'

const SLOT = Date.UTC(2026, 10, 30, 12)

/** A non-negative profile with at least one positive hour. */
const usage = fc
  .array(fc.double({ min: 0, max: 1e12, noNaN: true }), {
    minLength: PROFILE_HOURS,
    maxLength: PROFILE_HOURS,
  })
  .filter((p) => p.some((v) => v > 0))

/** A business-hours day: a single peak at `at`. */
function peaked(at: number, height = 100, floor = 1): number[] {
  return Array.from({ length: PROFILE_HOURS }, (_, i) => {
    const d = Math.min(Math.abs(i - at), PROFILE_HOURS - Math.abs(i - at))
    return floor + height * Math.exp(-(d * d) / 8)
  })
}

function rotate(p: readonly number[], by: number): number[] {
  return p.map((_, i) => p[(i - by + PROFILE_HOURS) % PROFILE_HOURS] ?? 0)
}

describe('profileWindows', () => {
  it('is the run window and the same 24 hours 1..N weeks earlier', () => {
    const w = profileWindows(SLOT, 4)
    expect(w.current).toEqual({ start: SLOT - DAY_MS, end: SLOT })
    expect(w.baseline.map((b) => (SLOT - b.end) / (7 * DAY_MS))).toEqual([1, 2, 3, 4])
    for (const b of w.baseline)
      expect(new Date(b.start).getUTCDay()).toBe(new Date(w.current.start).getUTCDay())
  })

  it('refuses a slot that is not a whole hour', () => {
    expect(() => profileWindows(SLOT + 1, 4)).toThrow(RangeError)
  })
})

describe('profileFromHourly', () => {
  it('places each hour, fills missing hours with 0, ignores hours outside and adds split points', () => {
    const w = profileWindows(SLOT, 1).current
    const p = profileFromHourly(
      [
        { hour: w.start, value: 5 },
        { hour: w.start + 3 * HOUR_MS, value: 2 },
        { hour: w.start + 3 * HOUR_MS, value: 1 },
        { hour: w.end - HOUR_MS, value: 7 },
        { hour: w.end, value: 1000 },
        { hour: w.start - HOUR_MS, value: 1000 },
      ],
      w,
    )
    expect(p).toHaveLength(24)
    expect(p[0]).toBe(5)
    expect(p[3]).toBe(3)
    expect(p[23]).toBe(7)
    expect(p.reduce((a, b) => a + b, 0)).toBe(15)
  })
})

describe('cosineSimilarity', () => {
  it('is null when either profile is all zeros', () => {
    const zero = new Array(24).fill(0)
    expect(cosineSimilarity(zero, peaked(12))).toBeNull()
    expect(cosineSimilarity(peaked(12), zero)).toBeNull()
  })

  it('is 1 for two flat profiles of any level', () => {
    expect(cosineSimilarity(new Array(24).fill(3), new Array(24).fill(1e9))).toBeCloseTo(1, 12)
  })

  it('is 0 for profiles used in disjoint hours', () => {
    const a = Array.from({ length: 24 }, (_, i) => (i < 12 ? 1 : 0))
    expect(cosineSimilarity(a, rotate(a, 12))).toBe(0)
  })

  it('does not overflow on huge values', () => {
    expect(cosineSimilarity(new Array(24).fill(1e300), new Array(24).fill(1e300))).toBeCloseTo(1, 12)
  })

  it('refuses profiles of different lengths', () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(RangeError)
  })

  it('lies in [0, 1] for non-negative usage (property)', () => {
    fc.assert(
      fc.property(usage, usage, (a, b) => {
        const s = cosineSimilarity(a, b)
        return s !== null && s >= 0 && s <= 1
      }),
    )
  })

  it('is symmetric and 1 against itself (property)', () => {
    fc.assert(
      fc.property(usage, usage, (a, b) => {
        expect(cosineSimilarity(a, b)).toBeCloseTo(cosineSimilarity(b, a) ?? Number.NaN, 12)
        expect(cosineSimilarity(a, a)).toBeCloseTo(1, 12)
      }),
    )
  })

  it('is scale invariant: a profile times k > 0 has the same similarity (property)', () => {
    fc.assert(
      fc.property(usage, usage, fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (a, b, k) => {
        const scaled = a.map((v) => v * k)
        expect(cosineSimilarity(scaled, b)).toBeCloseTo(cosineSimilarity(a, b) ?? Number.NaN, 9)
      }),
    )
  })

  it("lowers the similarity against a peaked baseline when the day's hours rotate (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (peak, shift, height) => {
          const baseline = peaked(peak, height)
          const day = peaked(peak, height)
          const moved = cosineSimilarity(rotate(day, shift), baseline) ?? Number.NaN
          expect(moved).toBeLessThan(cosineSimilarity(day, baseline) ?? Number.NaN)
        },
      ),
    )
  })
})

describe('meanShape', () => {
  it('weighs every day by its shape, not its volume', () => {
    const quiet = peaked(9, 10, 0)
    const busy = peaked(15, 10, 0).map((v) => v * 1000)
    const mean = meanShape([quiet, busy])
    expect(mean.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(mean[9]).toBeCloseTo(mean[15] ?? Number.NaN, 12)
  })

  it('refuses a day with a zero total', () => {
    expect(() => meanShape([new Array(24).fill(0)])).toThrow(RangeError)
  })
})
