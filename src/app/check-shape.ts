import type { Aggregation } from '../domain/metrics.js'
import type { ShapeWindowBasis } from '../domain/signals/shape/check-window.js'
import { PROFILE_HOURS, type ProfileWindow, profileWindows } from '../domain/signals/shape/profile.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import {
  type BaselineProfileScale,
  displayBaselineProfile,
  evaluateShape,
  type ShapeEvaluation,
  usableBaselineDays,
} from '../domain/signals/shape-signal.js'
import type { SeriesProfiles, VectorIndex } from '../ports.js'
import { chunkShapes, seriesKey } from './chunk-shapes.js'

/** The shape half of an on-demand check: a verdict with the profiles behind it, or why the window was not judged. */
export type ShapeCheck =
  | { status: 'not_evaluated'; field: string; reason: string }
  | {
      status: 'evaluated'
      basis: ShapeWindowBasis
      window: ProfileWindow
      /** The same hours 1..baseline_weeks weeks earlier, most recent first (before empty days are skipped). */
      baselineWindows: ProfileWindow[]
      config: ShapeConfig
      evaluation: ShapeEvaluation
      /** Mean and population stddev of the usable baseline days' totals (0 without one), as shape alerts quote. */
      baselineMean: number
      baselineStddev: number
      /** Baseline days the verdict uses or would use (empty and low-volume days skipped). */
      baselineDaysUsed: number
      /** The day's 24 hourly values, oldest hour first. */
      profile: number[]
      baselineProfile: { profile: number[]; scale: BaselineProfileScale } | null
    }

/**
 * Judges one series' shape for the window ending at `slot` through the job's own path (chunkShapes: one profile
 * query over exactly this customer), keeping the profiles it reads so the reply can show them.
 */
export async function checkShape(
  index: VectorIndex,
  config: ShapeConfig,
  series: { customerId: string; metric: string; aggregation: Aggregation },
  slot: number,
  basis: ShapeWindowBasis,
): Promise<ShapeCheck> {
  const read: SeriesProfiles[] = []
  const keeping: VectorIndex = {
    kind: index.kind,
    async *profiles(request) {
      for await (const chunk of index.profiles(request)) {
        read.push(...chunk)
        yield chunk
      }
    },
    close: () => index.close(),
  }
  const key = seriesKey(series.customerId, series.metric)
  const shapes = await chunkShapes(
    keeping,
    slot,
    config,
    [{ name: series.metric, aggregation: series.aggregation }],
    [series],
  )
  const windows = profileWindows(slot, config.baselineWeeks)
  const found = read.find((p) => seriesKey(p.customerId, p.metric) === key)
  const shape = shapes.get(key)
  // No usage in the day or any baseline day: the store has no profile, and the verdict is the empty day's.
  const profile = found?.current ?? new Array<number>(PROFILE_HOURS).fill(0)
  const baseline = found?.baseline ?? []
  return {
    status: 'evaluated',
    basis,
    window: windows.current,
    baselineWindows: windows.baseline,
    config,
    evaluation:
      shape?.evaluation ??
      evaluateShape({ current: profile, baseline, windowStart: windows.current.start }, config),
    baselineMean: shape?.baselineMean ?? 0,
    baselineStddev: shape?.baselineStddev ?? 0,
    baselineDaysUsed: usableBaselineDays(baseline, config).length,
    profile,
    baselineProfile: displayBaselineProfile(profile, baseline, config),
  }
}
