import { DAY_MS, HOUR_MS } from '../../time.js'

/** A profile has one value per hour of a 24-hour window. */
export const PROFILE_HOURS = 24

const WEEK_MS = 7 * DAY_MS

/**
 * The 24 hourly values of one metric for one customer over a 24-hour window, oldest hour first. Usage is
 * non-negative, so every similarity between two profiles lies in [0, 1].
 */
export type Profile = readonly number[] | Float64Array

export interface ProfileWindow {
  /** Inclusive, ms; a whole hour. */
  start: number
  /** Exclusive, ms: start + 24 h. */
  end: number
}

export interface ProfileWindows {
  /** The run's window [slot - 24 h, slot). */
  current: ProfileWindow
  /** The same 24 hours k weeks earlier, k = 1..weeks (most recent first): the same weekday, the same hours. */
  baseline: ProfileWindow[]
}

/** The windows a shape check of the run at `slot` (a whole hour) compares. */
export function profileWindows(slot: number, weeks: number): ProfileWindows {
  if (slot % HOUR_MS !== 0) throw new RangeError(`slot ${slot} is not a whole hour`)
  const window = (end: number): ProfileWindow => ({ start: end - DAY_MS, end })
  return {
    current: window(slot),
    baseline: Array.from({ length: weeks }, (_, k) => window(slot - (k + 1) * WEEK_MS)),
  }
}

/**
 * The profile of `window` from hourly points (`hour`: the hour's start, ms). Hours without a point are 0; points
 * outside the window are ignored; two points of one hour add up (a rollup split over parts).
 */
export function profileFromHourly(
  points: Iterable<{ hour: number; value: number }>,
  window: ProfileWindow,
): number[] {
  const profile = new Array<number>(PROFILE_HOURS).fill(0)
  for (const { hour, value } of points) {
    if (hour < window.start || hour >= window.end) continue
    const index = Math.floor((hour - window.start) / HOUR_MS)
    profile[index] = (profile[index] ?? 0) + value
  }
  return profile
}

export function profileTotal(profile: Profile): number {
  let sum = 0
  // Indexed, not for-of: the job calls this ~2 million times a run on views of one Float64Array.
  for (let i = 0; i < profile.length; i++) sum += profile[i] as number
  return sum
}

/**
 * Cosine similarity of two profiles, or null when either is all zeros (no direction to compare). Both are scaled
 * by their largest magnitude first so that squares of huge values (bytes) cannot overflow to Infinity; the result
 * is clamped to [-1, 1] against rounding.
 */
export function cosineSimilarity(a: Profile, b: Profile): number | null {
  return cosineWith(scaledProfile(a), b)
}

/** One side of cosineSimilarity computed once, for a profile compared with several: scaled values, their squares. */
export interface ScaledProfile {
  length: number
  /**
   * Each value over the largest magnitude; null for an all-zero profile. A plain array: the job scales one profile
   * per series, and a Float64Array of 24 values is an off-heap allocation each.
   */
  values: number[] | null
  squares: number
}

export function scaledProfile(a: Profile): ScaledProfile {
  const sa = maxAbs(a)
  if (sa === 0) return { length: a.length, values: null, squares: 0 }
  const values: number[] = []
  let squares = 0
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] ?? 0) / sa
    values.push(x)
    squares += x * x
  }
  return { length: a.length, values, squares }
}

/** cosineSimilarity(a, b) for a = the scaled profile's: the same operations in the same order, so the same number. */
export function cosineWith(a: ScaledProfile, b: Profile): number | null {
  if (a.length !== b.length) throw new RangeError(`profiles of ${a.length} and ${b.length} values`)
  const xs = a.values
  if (xs === null) return null
  const sb = maxAbs(b)
  if (sb === 0) return null
  let dot = 0
  let nb = 0
  for (let i = 0; i < xs.length; i++) {
    const y = (b[i] ?? 0) / sb
    dot += (xs[i] as number) * y
    nb += y * y
  }
  return Math.min(1, Math.max(-1, dot / Math.sqrt(a.squares * nb)))
}

/**
 * The mean of the days' shapes: each day is divided by its total first, so that a busy week does not outweigh a
 * quiet one (the baseline is about when usage happens, not how much). Days must have a non-zero total.
 */
export function meanShape(days: readonly Profile[]): number[] {
  const totals = days.map((day) => {
    const total = profileTotal(day)
    if (!(total > 0)) throw new RangeError('a baseline day with a zero total has no shape')
    return total
  })
  return meanOfShapes(days, totals)
}

/** meanShape with each day's (positive) total already known. */
export function meanOfShapes(days: readonly Profile[], totals: readonly number[]): number[] {
  const mean = new Array<number>(PROFILE_HOURS).fill(0)
  for (let d = 0; d < days.length; d++) {
    const day = days[d] as Profile
    const total = totals[d] as number
    for (let i = 0; i < PROFILE_HOURS; i++) mean[i] = (mean[i] ?? 0) + (day[i] ?? 0) / total / days.length
  }
  return mean
}

/** The profile divided by its total (its shape); all zeros stays all zeros. */
export function normalizedShape(profile: Profile): number[] {
  const total = profileTotal(profile)
  return Array.from(profile, (v) => (total > 0 ? v / total : 0))
}

function maxAbs(values: Profile): number {
  let m = 0
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i] as number))
  return m
}
