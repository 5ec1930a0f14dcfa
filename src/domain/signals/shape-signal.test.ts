import { describe, expect, it } from 'vitest'
import { HOUR_MS } from '../time.js'
import { PROFILE_HOURS } from './shape/profile.js'
import { DEFAULT_SHAPE_CONFIG, type ShapeConfig } from './shape/shape-settings.js'
import { displayBaselineProfile, evaluateShape, SHAPE_SIGNAL, type ShapeInput } from './shape-signal.js'

// The window [00:00, 24:00) UTC of a day: index i is UTC hour i.
const DAY_START = Date.UTC(2026, 10, 29)

/** A business day: `total` spread over 09:00-17:00 with a little at night. */
function businessDay(total: number): number[] {
  const weights = Array.from({ length: PROFILE_HOURS }, (_, i) => (i >= 9 && i < 17 ? 10 : 0.5))
  const sum = weights.reduce((a, b) => a + b, 0)
  return weights.map((w) => (w / sum) * total)
}

/** The same total, moved to 01:00-09:00 (a job at night, a key used from another timezone). */
function nightDay(total: number): number[] {
  const day = businessDay(total)
  return day.map((_, i) => day[(i + 8) % PROFILE_HOURS] ?? 0)
}

function input(current: number[], baseline: number[][]): ShapeInput {
  return { current, baseline, windowStart: DAY_START }
}

const weeks = (n: number, total = 10_000) => Array.from({ length: n }, () => businessDay(total))
const config = (over: Partial<ShapeConfig> = {}): ShapeConfig => ({ ...DEFAULT_SHAPE_CONFIG, ...over })

describe('evaluateShape', () => {
  it('passes a normal day and flags the same total moved to other hours', () => {
    const normal = evaluateShape(input(businessDay(10_500), weeks(4)), config())
    expect(normal.verdict).toMatchObject({ kind: 'shape', status: 'ok', isAnomaly: false, severity: null })
    expect(normal.fields?.shapeSimilarity).toBeCloseTo(1, 9)

    const moved = evaluateShape(input(nightDay(10_000), weeks(4)), config())
    expect(moved.verdict).toMatchObject({ status: 'ok', isAnomaly: true, severity: 'critical' })
    expect(moved.verdict.currentValue).toBeCloseTo(10_000, 6)
    expect(moved.fields?.shapeSimilarity).toBeLessThan(0.7)
    expect(moved.fields).toMatchObject({ shapeThreshold: 0.9, baselineWeeks: 4 })
    expect(moved.verdict.statistic).toBe(moved.fields?.shapeSimilarity)
  })

  it('is warning between the critical threshold and the threshold, critical below it', () => {
    // Half of the day moved to the night: similarity between 0.7 and 0.9.
    const half = businessDay(5000).map((v, i) => v + (nightDay(5000)[i] ?? 0))
    const e = evaluateShape(input(half, weeks(4)), config())
    expect(e.fields?.shapeSimilarity).toBeGreaterThan(0.7)
    expect(e.fields?.shapeSimilarity).toBeLessThan(0.9)
    expect(e.verdict.severity).toBe('warning')
    expect(evaluateShape(input(half, weeks(4)), config({ criticalThreshold: 0.9 })).verdict.severity).toBe(
      'critical',
    )
  })

  it('is not an anomaly at exactly the threshold (similarity < threshold fires)', () => {
    const e = evaluateShape(input(businessDay(10_000), weeks(4)), config())
    const s = e.fields?.shapeSimilarity ?? Number.NaN
    expect(
      evaluateShape(input(businessDay(10_000), weeks(4)), config({ threshold: s })).verdict.isAnomaly,
    ).toBe(false)
  })

  it('gives no verdict for an all-zero day: a day without usage is volume’s to judge', () => {
    const e = evaluateShape(input(new Array(24).fill(0), weeks(4)), config({ minDailyVolume: 0 }))
    expect(e.reason).toBe('empty_day')
    expect(e.verdict).toMatchObject({ status: 'insufficient_data', isAnomaly: false, statistic: null })
    expect(e.fields).toBeNull()
  })

  it('gives no verdict for a day below min_daily_volume, whatever its shape', () => {
    const e = evaluateShape(input(nightDay(100), weeks(4)), config())
    expect(e.reason).toBe('low_volume')
    expect(e.verdict.currentValue).toBeCloseTo(100, 9)
    expect(
      evaluateShape(input(nightDay(100), weeks(4)), config({ minDailyVolume: 0 })).verdict.isAnomaly,
    ).toBe(true)
  })

  it('skips all-zero and low-volume baseline days, and needs min_baseline_weeks usable ones', () => {
    const zero = new Array(24).fill(0)
    const twoUsable = [businessDay(10_000), zero, businessDay(50), businessDay(9000)]
    const e = evaluateShape(input(nightDay(10_000), twoUsable), config())
    expect(e.verdict.isAnomaly).toBe(true)
    expect(e.fields?.baselineWeeks).toBe(2)

    const oneUsable = [businessDay(10_000), zero, zero, zero]
    expect(evaluateShape(input(nightDay(10_000), oneUsable), config()).reason).toBe('too_few_baseline_days')
    expect(
      evaluateShape(input(nightDay(10_000), oneUsable), config({ minBaselineWeeks: 1 })).reason,
    ).toBeNull()
    expect(evaluateShape(input(nightDay(10_000), []), config({ minBaselineWeeks: 1 })).reason).toBe(
      'too_few_baseline_days',
    )
  })

  it('uses only the configured number of weeks', () => {
    const baseline = [businessDay(10_000), businessDay(10_000), nightDay(10_000), nightDay(10_000)]
    const e = evaluateShape(input(businessDay(10_000), baseline), config({ baselineWeeks: 2 }))
    expect(e.fields?.baselineWeeks).toBe(2)
    expect(e.fields?.meanSimilarity).toBeCloseTo(1, 9)
  })

  it('finds a flat day like a flat baseline (cosine 1) and unlike a business-hours one', () => {
    const flat = new Array(24).fill(500)
    const flatWeeks = Array.from({ length: 4 }, () => new Array(24).fill(400))
    expect(evaluateShape(input(flat, flatWeeks), config()).fields?.shapeSimilarity).toBeCloseTo(1, 12)
    expect(evaluateShape(input(flat, weeks(4)), config()).verdict.isAnomaly).toBe(true)
  })

  it('nearest: a day like any one of the baseline days is normal, where the mean variant flags it', () => {
    const alternating = [businessDay(10_000), nightDay(10_000), businessDay(10_000), nightDay(10_000)]
    const night = input(nightDay(10_000), alternating)
    const mean = evaluateShape(night, config())
    const nearest = evaluateShape(night, config({ variant: 'nearest' }))
    expect(mean.fields?.nearestSimilarity).toBeCloseTo(1, 9)
    expect(mean.fields?.meanSimilarity).toBeLessThan(0.9)
    expect(mean.verdict.isAnomaly).toBe(true)
    expect(nearest.verdict.isAnomaly).toBe(false)
    expect(nearest.fields?.shapeSimilarity).toBe(nearest.fields?.nearestSimilarity)
  })

  it('names the hour that moved most and whether usage appeared there or went missing', () => {
    // A new burst at 03:00 on top of a normal business day.
    const burst = businessDay(10_000)
    burst[3] = (burst[3] ?? 0) + 20_000
    const e = evaluateShape(input(burst, weeks(4)), config())
    expect(e.verdict).toMatchObject({ isAnomaly: true, direction: 'spike' })
    expect(e.fields?.deviationHour).toBe(3)

    // The window starting at 12:00 UTC: index 0 is 12:00, so index 3 is 15:00.
    const shifted = evaluateShape(
      { ...input(burst, weeks(4)), windowStart: DAY_START + 12 * HOUR_MS },
      config(),
    )
    expect(shifted.fields?.deviationHour).toBe(15)

    // Business hours gone quiet, with the usual night-time trickle only.
    const quiet = businessDay(10_000).map((v, i) => (i >= 9 && i < 17 ? v / 100 : v * 4))
    expect(evaluateShape(input(quiet, weeks(4)), config()).verdict.direction).toBe('drop')
  })

  it('refuses a profile that is not 24 values', () => {
    expect(() => evaluateShape(input([1, 2, 3], weeks(4)), config())).toThrow(RangeError)
  })

  it('declares fields whose names are distinct snake_case and a statistic among them', () => {
    const names = Object.values(SHAPE_SIGNAL.fields).map((f) => f.name)
    expect(new Set(names).size).toBe(names.length)
    for (const n of names) expect(n).toMatch(/^[a-z][a-z0-9_]*$/)
    expect(Object.keys(SHAPE_SIGNAL.fields)).toContain(SHAPE_SIGNAL.statistic)
  })
})

describe('displayBaselineProfile', () => {
  it("is the mean shape of the usable baseline days scaled to the day's total", () => {
    const shown = displayBaselineProfile(
      nightDay(5_000),
      [businessDay(10_000), businessDay(20_000)],
      config(),
    )
    expect(shown?.scale).toBe('current_total')
    const expected = businessDay(5_000)
    expect(shown?.profile).toHaveLength(PROFILE_HOURS)
    for (const [i, v] of (shown?.profile ?? []).entries()) expect(v).toBeCloseTo(expected[i] ?? Number.NaN, 9)
  })

  it("skips the days the verdict skips, scales an empty day to the baseline's mean total, and is null without days", () => {
    const low = businessDay(10).map((v, i) => (i === 0 ? v + 5 : v))
    const empty = new Array<number>(PROFILE_HOURS).fill(0)
    const shown = displayBaselineProfile(
      empty,
      [businessDay(1_000), low, empty, businessDay(3_000)],
      config(),
    )
    expect(shown?.scale).toBe('baseline_mean_total')
    const expected = businessDay(2_000)
    expect(shown?.profile).toHaveLength(PROFILE_HOURS)
    for (const [i, v] of (shown?.profile ?? []).entries()) expect(v).toBeCloseTo(expected[i] ?? Number.NaN, 9)
    expect(displayBaselineProfile(businessDay(1_000), [low, empty], config())).toBeNull()
  })
})
