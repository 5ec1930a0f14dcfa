import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { DAY_MS, HOUR_MS } from '../../domain/time.js'
import type { SeriesProfiles } from '../../ports.js'
import { RowBinaryError, type RowBinaryReader } from './row-binary.js'

const WEEK_MS = 7 * DAY_MS

/**
 * The shape profiles' layout in one array of a query's row: week k = 0..K is the window [S - k weeks - 24 h,
 * S - k weeks) of slot S, 24 values each, oldest hour first. `age` (SQL, ms) counts back from the start of the slot's
 * last hour: its week is k and, when the remainder is under a day, it lies in week k's window at index
 * 23 - remainder in hours. An hour outside every window gets `outside` (an index past any array), or is left out by
 * PROFILE_HOUR_FILTER. Read by shape-profiles.ts (the profiles alone) and series-windows.ts (with the windows).
 */
export const profileIndexSql = (age: string, outside?: number): string => {
  const index = `intDiv(${age}, ${WEEK_MS}) * ${PROFILE_HOURS} + ${PROFILE_HOURS - 1} - intDiv((${age}) % ${WEEK_MS}, ${HOUR_MS})`
  return outside === undefined ? index : `if(${profileHourFilter(age)}, ${index}, ${outside})`
}

/** Whether the hour at `age` lies in one of the profiles' windows. */
export const profileHourFilter = (age: string): string => `(${age}) % ${WEEK_MS} < ${DAY_MS}`

/** The earliest hour (ms) of the profiles of slot S over `weeks` baseline weeks. */
export const profilesStart = (slotMs: number, weeks: number): number => slotMs - weeks * WEEK_MS - DAY_MS

/**
 * One series' profiles from its array column: the window and the baseline weeks, most recent first; null for []
 * (a query that answers [] for a series without usage in any of the windows).
 */
export function readProfiles(
  reader: RowBinaryReader,
  weeks: number,
): Pick<SeriesProfiles, 'current' | 'baseline'> | null {
  const size = (weeks + 1) * PROFILE_HOURS
  const flat = reader.float64Array(size)
  if (flat.length === 0) return null
  if (flat.length !== size) throw new RowBinaryError(`a profile of ${flat.length} values, not ${size}`)
  const baseline: number[][] = []
  for (let k = 1; k <= weeks; k++) baseline.push(flat.slice(k * PROFILE_HOURS, (k + 1) * PROFILE_HOURS))
  flat.length = PROFILE_HOURS
  return { current: flat, baseline }
}
