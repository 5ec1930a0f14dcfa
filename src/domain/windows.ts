import { DAY_MS } from './time.js'

export interface TimeWindow {
  startMs: number
  endMs: number
}

/**
 * The baseline samples for a current window: the same window shifted back by whole steps of
 * max(window, 1 day) rounded up to whole days, as many as fit in `baselineDays`. Because the step is
 * never shorter than the window, no sample overlaps the current window or another sample.
 * Ordered nearest first.
 */
export function baselineWindows(current: TimeWindow, baselineDays: number): TimeWindow[] {
  const stepMs = baselineStepMs(current)
  const count = Math.floor((baselineDays * DAY_MS) / stepMs)
  const windows: TimeWindow[] = []
  for (let k = 1; k <= count; k++) {
    windows.push({ startMs: current.startMs - k * stepMs, endMs: current.endMs - k * stepMs })
  }
  return windows
}

/** Only windows that start at or after the series' first hour are samples: before it there was no customer. */
export function samplesSince(windows: readonly TimeWindow[], firstHourMs: number | null): TimeWindow[] {
  if (firstHourMs === null) return []
  return windows.filter((w) => w.startMs >= firstHourMs)
}

/** How far apart a window's baseline samples are: max(window, 1 day) rounded up to whole days. */
export function baselineStepMs(current: TimeWindow): number {
  const length = current.endMs - current.startMs
  if (length <= 0) throw new RangeError('window end must be after its start')
  return Math.ceil(Math.max(length, DAY_MS) / DAY_MS) * DAY_MS
}
