import { HOUR_MS } from '../time.js'
import {
  cosineWith,
  meanOfShapes,
  meanShape,
  PROFILE_HOURS,
  type Profile,
  profileTotal,
  scaledProfile,
} from './shape/profile.js'
import { SHAPE_SETTINGS, type ShapeConfig } from './shape/shape-settings.js'
import type { SignalDeclaration, SignalFieldValues, SignalVerdict } from './signal.js'

/**
 * The shape signal (issue 11, V2): the run's 24-hour profile against the same 24 hours on the same weekday of the
 * previous weeks, by cosine similarity. It catches a day whose total is normal but whose hours moved (a batch job
 * at 3 a.m., a key used from another timezone), which volume misses. Not yet in SIGNALS (signal-registry.ts):
 * registering it is the next step, with the stores, alerts and config handling its fields end to end.
 */
export const SHAPE_SIGNAL = {
  kind: 'shape',
  description: "The day's hourly profile against the same weekday of previous weeks (cosine similarity).",
  fields: {
    shapeSimilarity: {
      name: 'shape_similarity',
      type: 'real',
      description: 'The similarity the verdict used (the configured variant): cosine in [0, 1].',
    },
    shapeThreshold: {
      name: 'shape_threshold',
      type: 'real',
      description: 'The threshold it was compared with (an anomaly below it).',
    },
    meanSimilarity: {
      name: 'mean_similarity',
      type: 'real',
      description: 'Cosine against the mean shape of the baseline days.',
    },
    nearestSimilarity: {
      name: 'nearest_similarity',
      type: 'real',
      description: 'The best cosine among the baseline days.',
    },
    baselineWeeks: {
      name: 'baseline_weeks',
      type: 'integer',
      description: 'Baseline days used (same weekday, previous weeks; empty and low-volume days skipped).',
    },
    deviationHour: {
      name: 'deviation_hour',
      type: 'integer',
      description: 'UTC hour of day (0..23) where the day differs most from the mean shape.',
    },
  },
  statistic: 'shapeSimilarity',
  settings: SHAPE_SETTINGS,
} as const satisfies SignalDeclaration

export type ShapeFields = SignalFieldValues<typeof SHAPE_SIGNAL>

/** Why there is no shape verdict: no usage at all (volume's job), too little usage to have a shape, too few baseline days. */
export type ShapeNoVerdictReason = 'empty_day' | 'low_volume' | 'too_few_baseline_days'

export interface ShapeInput {
  /** The run's window [slot - 24 h, slot). */
  current: Profile
  /** The same hours on the same weekday, one per previous week, most recent first. */
  baseline: readonly Profile[]
  /** Start of the current window (ms, a whole hour): names the deviation's hour of day. */
  windowStart: number
  /**
   * The nearest-day cosine as a vector index computed it over exactly the kept baseline days (Redis VSIM), used
   * instead of the one computed here; absent: computed here.
   */
  indexNearestSimilarity?: number
}

export interface ShapeEvaluation {
  verdict: SignalVerdict<'shape'>
  /** The record's shape fields; null without a verdict. */
  fields: ShapeFields | null
  /** Why there is no verdict; null with one. */
  reason: ShapeNoVerdictReason | null
}

/** Judges one series' day by its shape. Pure; `config` is taken as valid (shapeSettingIssues checks it). */
export function evaluateShape(input: ShapeInput, config: ShapeConfig): ShapeEvaluation {
  return judgeShape(input, config, usableDays(input.baseline, config))
}

/**
 * evaluateShape and the mean and stddev of the usable baseline days' totals (what a shape alert quotes) of one day at
 * once, the usable baseline days picked once: the job's call, once per series and run.
 */
export function evaluateShapeWithTotals(
  input: ShapeInput,
  config: ShapeConfig,
): { evaluation: ShapeEvaluation; baselineMean: number; baselineStddev: number } {
  const usable = usableDays(input.baseline, config)
  return { evaluation: judgeShape(input, config, usable), ...totalsStats(usable.totals) }
}

function judgeShape(
  input: ShapeInput,
  config: ShapeConfig,
  { days, totals }: { days: Profile[]; totals: number[] },
): ShapeEvaluation {
  if (input.current.length !== PROFILE_HOURS)
    throw new RangeError(`a profile has ${PROFILE_HOURS} values, not ${input.current.length}`)
  const total = profileTotal(input.current)
  if (!(total > 0)) return noVerdict(total, 'empty_day')
  if (total < config.minDailyVolume) return noVerdict(total, 'low_volume')
  if (days.length < config.minBaselineWeeks || days.length === 0)
    return noVerdict(total, 'too_few_baseline_days')

  const mean = meanOfShapes(days, totals)
  // The day's side of every cosine, computed once (the same numbers cosineSimilarity computes each time).
  const current = scaledProfile(input.current)
  // Both are non-null: the current day and every kept day have a positive total.
  const meanSimilarity = cosineWith(current, mean) ?? 0
  let nearestSimilarity = input.indexNearestSimilarity
  if (nearestSimilarity === undefined) {
    nearestSimilarity = Number.NEGATIVE_INFINITY
    for (const day of days) nearestSimilarity = Math.max(nearestSimilarity, cosineWith(current, day) ?? 0)
  }
  const similarity = config.variant === 'nearest' ? nearestSimilarity : meanSimilarity
  const isAnomaly = similarity < config.threshold
  const deviation = largestDeviation(input.current, total, mean)
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

function noVerdict(total: number, reason: ShapeNoVerdictReason): ShapeEvaluation {
  return {
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
  }
}

/** The baseline days a verdict uses: the first baseline_weeks, without empty and low-volume days. */
export function usableBaselineDays(baseline: readonly Profile[], config: ShapeConfig): Profile[] {
  return usableDays(baseline, config).days
}

/** The usable baseline days with their totals, each total computed once. */
function usableDays(
  baseline: readonly Profile[],
  config: ShapeConfig,
): { days: Profile[]; totals: number[] } {
  const days: Profile[] = []
  const totals: number[] = []
  const weeks = Math.min(baseline.length, config.baselineWeeks)
  for (let k = 0; k < weeks; k++) {
    const day = baseline[k] as Profile
    const t = profileTotal(day)
    if (t > 0 && t >= config.minDailyVolume) {
      days.push(day)
      totals.push(t)
    }
  }
  return { days, totals }
}

/**
 * Mean and population stddev of the usable baseline days' totals (0 and 0 without one): what a shape alert quotes
 * beside the similarity.
 */
function totalsStats(totals: readonly number[]): { baselineMean: number; baselineStddev: number } {
  if (totals.length === 0) return { baselineMean: 0, baselineStddev: 0 }
  let sum = 0
  for (const t of totals) sum += t
  const mean = sum / totals.length
  let squares = 0
  for (const t of totals) squares += (t - mean) ** 2
  return { baselineMean: mean, baselineStddev: Math.sqrt(squares / totals.length) }
}

/** What the baseline profile a chart draws beside the day is scaled to (cosine ignores scale; a chart does not). */
export type BaselineProfileScale = 'current_total' | 'baseline_mean_total'

/**
 * The baseline as a profile comparable with the day's: the mean shape of the usable baseline days (the one the
 * `mean` variant and deviation_hour use) times the day's total, or, for a day without usage, times the baseline
 * days' mean total (so the chart still shows the usual day). Null without a usable baseline day.
 */
export function displayBaselineProfile(
  current: Profile,
  baseline: readonly Profile[],
  config: ShapeConfig,
): { profile: number[]; scale: BaselineProfileScale } | null {
  const days = usableBaselineDays(baseline, config)
  if (days.length === 0) return null
  const total = profileTotal(current)
  const scale: BaselineProfileScale = total > 0 ? 'current_total' : 'baseline_mean_total'
  const factor = total > 0 ? total : days.reduce((sum, day) => sum + profileTotal(day), 0) / days.length
  return { profile: meanShape(days).map((share) => share * factor), scale }
}

/**
 * The hour where the day's shape (each hour's share of `total`) differs most from the baseline's, and by how much
 * (share of the day). Positive: usage appeared where there usually is little (a spike); negative: the usual hours
 * went quiet (a drop).
 */
function largestDeviation(day: Profile, total: number, baseline: Profile): { index: number; delta: number } {
  let index = 0
  let largest = 0
  for (let i = 0; i < PROFILE_HOURS; i++) {
    const delta = (total > 0 ? (day[i] ?? 0) / total : 0) - (baseline[i] ?? 0)
    if (Math.abs(delta) > Math.abs(largest)) {
      index = i
      largest = delta
    }
  }
  return { index, delta: largest }
}
