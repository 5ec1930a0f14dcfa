import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { DAY_MS, HOUR_MS, weekdayOfDay } from '../../domain/time.js'

/**
 * The calendar side of the Redis index: a series' vector set holds one element per UTC day (`YYYY-MM-DD`, the day's
 * 24 hourly values), while the job's window is the rolling 24 h ending at the slot. These pure helpers say which
 * days a slot needs, how windows are stitched from days, how keys are named and which days retention drops.
 */

/** Days since the epoch (UTC) of the day holding `ms`. */
export const dayIndex = (ms: number): number => Math.floor(ms / DAY_MS)

/** The element name of a day: `YYYY-MM-DD` (sorts like the days it names). */
export const dayElement = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** 0 = Sunday .. 6 = Saturday, as Date.getUTCDay. */
export const weekdayOf = weekdayOfDay

export interface SlotDays {
  /** The day holding the window's first hour. */
  first: number
  /** The slot's hour of day: the window is day `first` from this hour plus day `first + 1` before it (0: one day). */
  hour: number
  /** The two days the run re-reads from the rollup and upserts (late events land in them): the window's last day and the one before. */
  recent: [number, number]
}

export function slotDays(slot: number): SlotDays {
  if (!Number.isSafeInteger(slot) || slot % HOUR_MS !== 0)
    throw new RangeError(`slot ${slot} is not a whole hour`)
  const first = dayIndex(slot - DAY_MS)
  const hour = (slot - first * DAY_MS - DAY_MS) / HOUR_MS
  const last = hour === 0 ? first : first + 1
  return { first, hour, recent: [last - 1, last] }
}

/** The days a window `weeksBack` weeks before the slot's is made of (one when the slot is at 00:00 UTC). */
export function windowDays(days: SlotDays, weeksBack: number): number[] {
  const first = days.first - 7 * weeksBack
  return days.hour === 0 ? [first] : [first, first + 1]
}

/** The 24-hour window from its days' vectors: the first day from `hour` on, then the next day before `hour`. */
export function stitchWindow(hour: number, dayVectors: readonly (readonly number[])[]): number[] {
  const [first, second] = dayVectors
  if (!first || first.length !== PROFILE_HOURS) throw new RangeError('a window needs its first day')
  if (hour === 0) return [...first]
  if (!second || second.length !== PROFILE_HOURS)
    throw new RangeError('a window across midnight needs two days')
  return [...first.slice(hour), ...second.slice(0, hour)]
}

/**
 * A key part with every byte outside `[A-Za-z0-9._-]` as `%XX` (UTF-8): injective, so no two series share a key
 * (`a:b` + `c` and `a` + `b:c` differ), and free of `{` `}` so an id never becomes a Redis Cluster hash tag.
 */
export function escapeKeyPart(part: string): string {
  let out = ''
  for (const byte of Buffer.from(part, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The vector set of one series: `{prefix}{customer}:{metric}`, both escaped. */
export const seriesKey = (prefix: string, customerId: string, metric: string): string =>
  `${prefix}${escapeKeyPart(customerId)}:${escapeKeyPart(metric)}`

/** Days a series keeps: the newest `retentionWeeks` x 7 up to the newest day a run wrote (inclusive). */
export const oldestRetainedDay = (newestDay: number, retentionWeeks: number): number =>
  newestDay - 7 * retentionWeeks + 1

/**
 * The days a run removes with VREM: the `sweepDays` days just past retention. Every run sweeps them, so a day is
 * removed by the first run of the `sweepDays` days after it expires (an outage longer than that leaves a day behind
 * until the key's expiry: docs/decisions.md).
 */
export function expiredDays(newestDay: number, retentionWeeks: number, sweepDays: number): number[] {
  const oldest = oldestRetainedDay(newestDay, retentionWeeks)
  return Array.from({ length: sweepDays }, (_, i) => oldest - 1 - i)
}

/**
 * A day without usage has no direction (Redis cannot normalize a zero vector, and its cosine is undefined): it is
 * stored as this vector, which no real day can have (usage is never negative), so that "empty" is not "missing".
 */
export const EMPTY_DAY_VECTOR: readonly number[] = [-1, ...new Array<number>(PROFILE_HOURS - 1).fill(0)]

/** An hourly value Redis keeps within float32 rounding: its square and the sum of 24 of them stay finite in float32. */
export const MAX_STORED_HOURLY_VALUE = 1e18

/** The vector to store for a day, or null when Redis cannot hold it faithfully (the day is then read through). */
export function storedVector(day: readonly number[]): readonly number[] | null {
  if (day.length !== PROFILE_HOURS) return null
  if (day.some((v) => !Number.isFinite(v) || v < 0 || v > MAX_STORED_HOURLY_VALUE)) return null
  return day.every((v) => v === 0) ? EMPTY_DAY_VECTOR : day
}

/** A day vector read back (VEMB) as the day's hourly values: the empty-day vector is all zeros again. */
export function dayFromStored(vector: readonly number[]): number[] | null {
  if (vector.length !== PROFILE_HOURS) return null
  // A stored real day has no negative component; float32 rounding keeps -1 near -1 and zeros near 0.
  if (vector.some((v) => v < -0.5)) return new Array<number>(PROFILE_HOURS).fill(0)
  return vector.map((v) => Math.max(0, snapToInteger(v)))
}

/**
 * Undoes float32 rounding on integer values: Redis keeps NOQUANT vectors as float32 normalized by their norm, so
 * VEMB gives 99.99999 for 100. A value within 2^-20 (relative) of an integer is that integer, which makes count
 * metrics (integers below 2^24 per hour) come back exactly; other values keep float32 precision.
 */
export function snapToInteger(value: number): number {
  const n = Math.round(value)
  return Math.abs(value - n) <= 2 ** -20 * Math.max(1, Math.abs(value)) ? n : value
}
