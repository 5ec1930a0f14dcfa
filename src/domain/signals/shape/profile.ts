import { DAY_MS, HOUR_MS } from '../../time.js'

/** A profile has one value per hour of a 24-hour window. */
export const PROFILE_HOURS = 24

const WEEK_MS = 7 * DAY_MS

/**
 * The 24 hourly values of one metric for one customer over a 24-hour window, oldest hour first. Usage is
 * non-negative, so every similarity between two profiles lies in [0, 1].
 */
export type Profile = readonly number[]

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
  for (const v of profile) sum += v
  return sum
}

/**
 * Cosine similarity of two profiles, or null when either is all zeros (no direction to compare). Both are scaled
 * by their largest magnitude first so that squares of huge values (bytes) cannot overflow to Infinity; the result
 * is clamped to [-1, 1] against rounding.
 */
export function cosineSimilarity(a: Profile, b: Profile): number | null {
  if (a.length !== b.length) throw new RangeError(`profiles of ${a.length} and ${b.length} values`)
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

/**
 * The mean of the days' shapes: each day is divided by its total first, so that a busy week does not outweigh a
 * quiet one (the baseline is about when usage happens, not how much). Days must have a non-zero total.
 */
export function meanShape(days: readonly Profile[]): number[] {
  const mean = new Array<number>(PROFILE_HOURS).fill(0)
  for (const day of days) {
    const total = profileTotal(day)
    if (!(total > 0)) throw new RangeError('a baseline day with a zero total has no shape')
    for (let i = 0; i < PROFILE_HOURS; i++) mean[i] = (mean[i] ?? 0) + (day[i] ?? 0) / total / days.length
  }
  return mean
}

/** The profile divided by its total (its shape); all zeros stays all zeros. */
export function normalizedShape(profile: Profile): number[] {
  const total = profileTotal(profile)
  return profile.map((v) => (total > 0 ? v / total : 0))
}

function maxAbs(values: Profile): number {
  let m = 0
  for (const v of values) m = Math.max(m, Math.abs(v))
  return m
}
