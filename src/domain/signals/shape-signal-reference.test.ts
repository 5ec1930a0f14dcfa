import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HOUR_MS } from '../time.js'
import { PROFILE_HOURS, type Profile } from './shape/profile.js'
import { DEFAULT_SHAPE_CONFIG, type ShapeConfig } from './shape/shape-settings.js'
import { evaluateShape, evaluateShapeWithTotals, type ShapeInput } from './shape-signal.js'

// evaluateShape and the baseline totals an alert quotes, computed once per day and without per-hour allocations
// (issue 14, goal 6), against the code they replaced (main at 4992d97: shape-signal.ts, profile.ts and
// app/chunk-shapes.ts's baselineTotals, kept below unchanged as the reference): the same verdicts and fields to the
// last bit on random profiles with empty, low-volume, huge and sub-normal days.

const profileTotal = (p: Profile) => {
  let sum = 0
  for (const v of p) sum += v
  return sum
}
const maxAbs = (values: Profile) => {
  let m = 0
  for (const v of values) m = Math.max(m, Math.abs(v))
  return m
}
function cosineSimilarity(a: Profile, b: Profile): number | null {
  const sa = maxAbs(a)
  const sb = maxAbs(b)
  if (sa === 0 || sb === 0) return null
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] ?? 0) / sa
    const y = (b[i] ?? 0) / sb
    dot += x * y
    na += x * x
    nb += y * y
  }
  return Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)))
}
function meanShape(days: readonly Profile[]): number[] {
  const mean = new Array<number>(PROFILE_HOURS).fill(0)
  for (const day of days) {
    const total = profileTotal(day)
    for (let i = 0; i < PROFILE_HOURS; i++) mean[i] = (mean[i] ?? 0) + (day[i] ?? 0) / total / days.length
  }
  return mean
}
const normalizedShape = (profile: Profile) => {
  const total = profileTotal(profile)
  return profile.map((v) => (total > 0 ? v / total : 0))
}
function largestDeviation(shape: Profile, baseline: Profile): { index: number; delta: number } {
  let best = { index: 0, delta: 0 }
  for (let i = 0; i < PROFILE_HOURS; i++) {
    const delta = (shape[i] ?? 0) - (baseline[i] ?? 0)
    if (Math.abs(delta) > Math.abs(best.delta)) best = { index: i, delta }
  }
  return best
}
const usableBaselineDays = (baseline: readonly Profile[], config: ShapeConfig) =>
  baseline.slice(0, config.baselineWeeks).filter((day) => {
    const t = profileTotal(day)
    return t > 0 && t >= config.minDailyVolume
  })

function referenceEvaluateShape(input: ShapeInput, config: ShapeConfig) {
  const total = profileTotal(input.current)
  const none = (reason: string) => ({
    verdict: {
      kind: 'shape',
      status: 'insufficient_data',
      isAnomaly: false,
      severity: null,
      direction: null,
      currentValue: total,
      statistic: null,
    },
    fields: null,
    reason,
  })
  if (!(total > 0)) return none('empty_day')
  if (total < config.minDailyVolume) return none('low_volume')
  const days = usableBaselineDays(input.baseline, config)
  if (days.length < config.minBaselineWeeks || days.length === 0) return none('too_few_baseline_days')
  const mean = meanShape(days)
  const meanSimilarity = cosineSimilarity(input.current, mean) ?? 0
  const nearestSimilarity =
    input.indexNearestSimilarity ?? Math.max(...days.map((day) => cosineSimilarity(input.current, day) ?? 0))
  const similarity = config.variant === 'nearest' ? nearestSimilarity : meanSimilarity
  const isAnomaly = similarity < config.threshold
  const deviation = largestDeviation(normalizedShape(input.current), mean)
  return {
    verdict: {
      kind: 'shape',
      status: 'ok',
      isAnomaly,
      severity: isAnomaly ? (similarity < config.criticalThreshold ? 'critical' : 'warning') : null,
      direction: isAnomaly ? (deviation.delta > 0 ? 'spike' : 'drop') : null,
      currentValue: total,
      statistic: similarity,
    },
    fields: {
      shapeSimilarity: similarity,
      shapeThreshold: config.threshold,
      meanSimilarity,
      nearestSimilarity,
      baselineWeeks: days.length,
      deviationHour: (Math.floor(input.windowStart / HOUR_MS) + deviation.index) % PROFILE_HOURS,
    },
    reason: null,
  }
}
function referenceBaselineTotals(baseline: readonly Profile[], config: ShapeConfig) {
  const totals = baseline
    .slice(0, config.baselineWeeks)
    .map(profileTotal)
    .filter((t) => t > 0 && t >= config.minDailyVolume)
  if (totals.length === 0) return { baselineMean: 0, baselineStddev: 0 }
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length
  const variance = totals.reduce((a, t) => a + (t - mean) ** 2, 0) / totals.length
  return { baselineMean: mean, baselineStddev: Math.sqrt(variance) }
}

/** Deep equality with numbers compared bit for bit (Object.is: -0 is not 0, NaN is NaN). */
function sameBits(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b)
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return (
    ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameBits((a as never)[k], (b as never)[k]))
  )
}

const hour = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.double({ min: 0, max: 1e4, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1e300, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(5e-324, 1e-300, 0.25) },
)
const day = fc.oneof(
  { weight: 1, arbitrary: fc.constant(new Array<number>(PROFILE_HOURS).fill(0)) },
  { weight: 6, arbitrary: fc.array(hour, { minLength: PROFILE_HOURS, maxLength: PROFILE_HOURS }) },
)
const config = fc.record({
  variant: fc.constantFrom('mean' as const, 'nearest' as const),
  threshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
  criticalThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
  baselineWeeks: fc.integer({ min: 1, max: 12 }),
  minBaselineWeeks: fc.integer({ min: 1, max: 4 }),
  minDailyVolume: fc.constantFrom(0, 1, 100, 5e4),
})

describe('evaluateShape against the code it replaced', () => {
  it('gives the same verdicts, fields and baseline totals, bit for bit', () => {
    const outcomes = new Map<string, number>()
    fc.assert(
      fc.property(
        day,
        fc.array(day, { minLength: 0, maxLength: 12 }),
        config,
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 0, max: 23 }),
        (current, baseline, c, indexNearest, startHour) => {
          const shapeConfig: ShapeConfig = { ...DEFAULT_SHAPE_CONFIG, ...c }
          const input: ShapeInput = {
            current,
            baseline,
            windowStart: Date.UTC(2026, 10, 29, startHour),
            ...(indexNearest === undefined ? {} : { indexNearestSimilarity: indexNearest }),
          }
          const got = evaluateShape(input, shapeConfig)
          const want = referenceEvaluateShape(input, shapeConfig)
          expect(got).toEqual(want)
          expect(sameBits(got, want)).toBe(true)
          const outcome =
            got.reason ?? `${shapeConfig.variant} ${got.verdict.isAnomaly ? 'anomaly' : 'normal'}`
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
          const wantTotals = referenceBaselineTotals(baseline, shapeConfig)
          // The job's form: both at once, on views of one Float64Array (as the windows' scan reads them).
          const flat = new Float64Array([current, ...baseline].flat())
          const view = (k: number) => flat.subarray(k * PROFILE_HOURS, (k + 1) * PROFILE_HOURS)
          const both = evaluateShapeWithTotals(
            { ...input, current: view(0), baseline: baseline.map((_, k) => view(k + 1)) },
            shapeConfig,
          )
          expect(sameBits(both, { evaluation: want, ...wantTotals })).toBe(true)
        },
      ),
      { numRuns: 3000, seed: 14 },
    )
    // Every way out was taken, judged days most of all (else the comparison would be of early returns).
    for (const outcome of ['empty_day', 'low_volume', 'too_few_baseline_days', 'mean anomaly', 'mean normal'])
      expect(outcomes.get(outcome), outcome).toBeGreaterThan(20)
    for (const outcome of ['nearest anomaly', 'nearest normal'])
      expect(outcomes.get(outcome), outcome).toBeGreaterThan(20)
  })
})
