import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { DAY_MS } from '../../domain/time.js'
import type { ProfileViews, SeriesProfiles } from '../../ports.js'
import { RowBinaryError, type RowBinaryReader } from './row-binary.js'

const WEEK_MS = 7 * DAY_MS
const WEEK_HOURS = 7 * 24

/**
 * The shape profiles' layout in one array of a query's row: week k = 0..K is the window [S - k weeks - 24 h,
 * S - k weeks) of slot S, 24 values each, oldest hour first. `hoursBack` (SQL, a whole number) counts an hour back
 * from the slot's last hour (0 = [S - 1 h, S)): its week is k and, when the remainder is under a day, it lies in week
 * k's window at index 23 - remainder. An hour outside every window gets `outside` (an index past any array), or is
 * left out by profileHourFilter. Counted in hours, not ms: the job's scan has them already, and small numbers divide
 * cheaper (the window query with profiles: ~7% less CPU, bench/window-aggregates.ts). Read by shape-profiles.ts
 * (the profiles alone) and series-windows.ts (with the windows).
 */
export const profileIndexSql = (hoursBack: string, outside?: number): string => {
  const index = `intDiv(${hoursBack}, ${WEEK_HOURS}) * ${PROFILE_HOURS} + ${PROFILE_HOURS - 1} - (${hoursBack}) % ${WEEK_HOURS}`
  return outside === undefined ? index : `if(${profileHourFilter(hoursBack)}, ${index}, ${outside})`
}

/** Whether the hour `hoursBack` lies in one of the profiles' windows. */
export const profileHourFilter = (hoursBack: string): string =>
  `(${hoursBack}) % ${WEEK_HOURS} < ${PROFILE_HOURS}`

/** The earliest hour (ms) of the profiles of slot S over `weeks` baseline weeks. */
export const profilesStart = (slotMs: number, weeks: number): number => slotMs - weeks * WEEK_MS - DAY_MS

/** The number of values of one series' profiles over `weeks` baseline weeks (the array column's length). */
export const profileValues = (weeks: number): number => (weeks + 1) * PROFILE_HOURS

/**
 * One series' profiles from its array column's values: the window and the baseline weeks, most recent first; null
 * for [] (a query that answers [] for a series without usage in any of the windows). `part` cuts one window out.
 */
function splitProfiles<T>(
  length: number,
  weeks: number,
  part: (from: number, to: number) => T,
): { current: T; baseline: T[] } | null {
  const size = profileValues(weeks)
  if (length === 0) return null
  if (length !== size) throw new RowBinaryError(`a profile of ${length} values, not ${size}`)
  const baseline: T[] = []
  for (let k = 1; k <= weeks; k++) baseline.push(part(k * PROFILE_HOURS, (k + 1) * PROFILE_HOURS))
  return { current: part(0, PROFILE_HOURS), baseline }
}

/** One series' profiles read from its array column as plain arrays. */
export function readProfiles(
  reader: RowBinaryReader,
  weeks: number,
): Pick<SeriesProfiles, 'current' | 'baseline'> | null {
  const flat = reader.float64Array(profileValues(weeks))
  return splitProfiles(flat.length, weeks, (from, to) => flat.slice(from, to))
}

/** One series' profiles as views of values already read (the job's: no array per window and series). */
export function profileViews(flat: Float64Array, weeks: number): ProfileViews | null {
  return splitProfiles(flat.length, weeks, (from, to) => flat.subarray(from, to))
}
