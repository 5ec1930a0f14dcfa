import type { TimeRange } from './incident.js'
import { HOUR_MS, overlapsAny } from './time.js'
import type { SeriesValues } from './volume.js'

/**
 * The `recent` window (issue 13, round 4): the last hour against the hours just before it (a rolling baseline, like
 * NAB's windowed Gaussian). It needs no daily history, so it judges a series from its second day, and a level shift
 * becomes its own normal within `recentHours`; the day and hour windows need 7 previous days and compare with the
 * same hour of previous days. The store returns the hours newest first (SeriesHistory.recent).
 */

/** A rolling baseline needs at least a day of hours: fewer cannot tell a daily cycle from a change. */
export const RECENT_MIN_HOURS = 24

/**
 * The baseline samples of the recent window: the hours before the current one, newest first, at most `hours` of
 * them, none before the series' first hour (a series that starts mid-history is not compared with zeros) and none
 * overlapping a labelled period (planned activity does not become the normal).
 */
export function recentSamples(
  history: {
    slot: number
    firstHourMs: number
    recent?: SeriesValues
    excluded?: readonly TimeRange[]
  },
  hours: number,
): SeriesValues {
  const values = history.recent ?? []
  const excluded = history.excluded ?? []
  const last = Math.min(hours, values.length)
  if (excluded.length === 0) {
    // Hour j is a sample while it starts at or after the first hour: the first j that does not is the count.
    let count = 0
    while (count < last && history.slot - (count + 2) * HOUR_MS >= history.firstHourMs) count++
    // Read-only from here on: a series with all its hours lends its own array (the job judges ~400k of them).
    return count === values.length ? values : values.slice(0, count)
  }
  const samples: number[] = []
  for (let j = 1; j <= last; j++) {
    const end = history.slot - j * HOUR_MS
    if (end - HOUR_MS < history.firstHourMs) break
    if (overlapsAny(excluded, end - HOUR_MS, end)) continue
    samples.push(values[j - 1] ?? 0)
  }
  return samples
}
