import { DAY_MS, floorToHour, isHourAligned } from './time.js'

/**
 * How a check picked the run slot S whose window [S - 24 h, S) it judges. `last_complete_hour`: no window was
 * given, so the 24 hours up to the last whole hour (the hour under way would read as missing usage and look like a
 * drop); `requested`: the window given, which is already 24 hours ending on a whole hour.
 */
export type SlotWindowBasis = 'last_complete_hour' | 'requested'

/** Why a window given is not a run's window. */
export type SlotWindowProblem =
  | 'end_required_with_start'
  | 'end_not_whole_hour'
  | 'end_in_future'
  | 'start_not_day_before_end'

export type SlotWindow =
  | { ok: true; slot: number; basis: SlotWindowBasis }
  | { ok: false; field: 'current_start' | 'current_end'; problem: SlotWindowProblem }

/**
 * The slot S whose window [S - 24 h, S) (a detection run's window) a check of [startMs, endMs) asked at `nowMs`
 * judges, or why the window is not one. A window given is taken literally (a time someone typed is the time they
 * mean) and must be exactly that: 24 hours ending on a whole hour that has passed; `current_end` alone is enough.
 * Only the default window (nothing given) moves, to the last complete hour. Shape and the check's `detector=job`
 * judge such windows; each words the problem for its own reason.
 */
export function slotWindow(window: {
  startMs: number
  endMs: number
  startGiven: boolean
  endGiven: boolean
  nowMs: number
}): SlotWindow {
  const { startMs, endMs, startGiven, endGiven, nowMs } = window
  if (!endGiven) {
    if (startGiven) return { ok: false, field: 'current_end', problem: 'end_required_with_start' }
    return { ok: true, slot: floorToHour(nowMs), basis: 'last_complete_hour' }
  }
  if (!isHourAligned(endMs)) return { ok: false, field: 'current_end', problem: 'end_not_whole_hour' }
  if (endMs > nowMs) return { ok: false, field: 'current_end', problem: 'end_in_future' }
  if (startGiven && startMs !== endMs - DAY_MS)
    return { ok: false, field: 'current_start', problem: 'start_not_day_before_end' }
  return { ok: true, slot: endMs, basis: 'requested' }
}
