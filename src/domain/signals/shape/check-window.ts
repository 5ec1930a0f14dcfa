import { type SlotWindowBasis, type SlotWindowProblem, slotWindow } from '../../slot-window.js'

/** How the on-demand check picked the 24 hours shape judges (see slot-window.ts). */
export type ShapeWindowBasis = SlotWindowBasis

export type ShapeCheckWindow =
  | { ok: true; slot: number; basis: ShapeWindowBasis }
  | { ok: false; field: 'current_start' | 'current_end'; reason: string }

/** Shape's wording of each problem: shape compares whole hours of one 24-hour window that is over. */
const SHAPE_REASONS: Record<SlotWindowProblem, string> = {
  end_required_with_start:
    'is required with current_start for shape: shape judges a 24-hour window ending on a whole hour (give both, only current_end, or neither for the last complete 24 hours)',
  end_not_whole_hour: 'must be a whole hour for shape (it judges the 24 hourly values before current_end)',
  end_in_future: 'must not be in the future for shape (hours still to come would read as missing usage)',
  start_not_day_before_end:
    'must be exactly 24 hours before current_end for shape (it judges one 24-hour window)',
}

/**
 * The slot S whose window [S - 24 h, S) shape judges for a check of [startMs, endMs) asked at `nowMs`, or why that
 * window cannot be judged (the rule: slotWindow). The window itself has been validated by the check (real times,
 * start before end, begun).
 */
export function shapeCheckWindow(window: Parameters<typeof slotWindow>[0]): ShapeCheckWindow {
  const w = slotWindow(window)
  return w.ok ? w : { ok: false, field: w.field, reason: SHAPE_REASONS[w.problem] }
}
