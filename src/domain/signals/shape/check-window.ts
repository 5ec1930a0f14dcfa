import { DAY_MS, floorToHour, isHourAligned } from '../../time.js'

/**
 * How the on-demand check picked the 24 hours shape judges. `last_complete_hour`: no window was given, so the
 * 24 hours up to the last whole hour (the hour under way would read as missing usage and look like a drop);
 * `requested`: the window given, which is already 24 hours ending on a whole hour.
 */
export type ShapeWindowBasis = 'last_complete_hour' | 'requested'

export type ShapeCheckWindow =
  | { ok: true; slot: number; basis: ShapeWindowBasis }
  | { ok: false; field: 'current_start' | 'current_end'; reason: string }

/**
 * The slot S whose window [S - 24 h, S) shape judges for a check of [startMs, endMs) asked at `nowMs`, or why that
 * window cannot be judged. Shape compares whole hours of one 24-hour window that is over, so a window given is
 * taken literally (a time someone typed is the time they mean) and must be exactly that; only the default window
 * (nothing given) moves, to the last complete hour. The window itself has been validated by the check (real times,
 * start before end, begun).
 */
export function shapeCheckWindow(window: {
  startMs: number
  endMs: number
  startGiven: boolean
  endGiven: boolean
  nowMs: number
}): ShapeCheckWindow {
  const { startMs, endMs, startGiven, endGiven, nowMs } = window
  if (!endGiven) {
    if (startGiven)
      return {
        ok: false,
        field: 'current_end',
        reason:
          'is required with current_start for shape: shape judges a 24-hour window ending on a whole hour (give both, only current_end, or neither for the last complete 24 hours)',
      }
    return { ok: true, slot: floorToHour(nowMs), basis: 'last_complete_hour' }
  }
  if (!isHourAligned(endMs))
    return {
      ok: false,
      field: 'current_end',
      reason: 'must be a whole hour for shape (it judges the 24 hourly values before current_end)',
    }
  if (endMs > nowMs)
    return {
      ok: false,
      field: 'current_end',
      reason: 'must not be in the future for shape (hours still to come would read as missing usage)',
    }
  if (startGiven && startMs !== endMs - DAY_MS)
    return {
      ok: false,
      field: 'current_start',
      reason: 'must be exactly 24 hours before current_end for shape (it judges one 24-hour window)',
    }
  return { ok: true, slot: endMs, basis: 'requested' }
}
