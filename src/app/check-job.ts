import { type Detection, windowOptions } from '../domain/detector.js'
import type { MetricDefinition } from '../domain/metrics.js'
import { type SlotWindowProblem, slotWindow } from '../domain/slot-window.js'
import { DAY_MS, HOUR_MS } from '../domain/time.js'
import type { VolumeOptions } from '../domain/volume.js'
import type { TimeWindow } from '../domain/windows.js'
import { type FieldIssue, ValidationError } from '../errors.js'
import type { VolumeCheck } from './check-anomaly.js'
import { judgeSlots, type SeriesDeps, type SeriesSettings, seriesSettings } from './series-verdicts.js'

/**
 * Whose method the check's volume signal judges with (`detector` of GET /v1/anomalies/check, `meterflow check
 * --detector`). `seed`: the seed's z-score over the window asked for, with the parameters given. `job`: exactly as a
 * detection run for the slot would judge the series (its detector, the customer's settings, labelled periods out).
 */
export const CHECK_DETECTORS = ['seed', 'job'] as const
export type CheckDetector = (typeof CHECK_DETECTORS)[number]
export const DEFAULT_CHECK_DETECTOR: CheckDetector = 'seed'

export function isCheckDetector(value: unknown): value is CheckDetector {
  return typeof value === 'string' && (CHECK_DETECTORS as readonly string[]).includes(value)
}

/** How the job decided one slot: its settings for the series, every window's judgement and the one that won. */
export interface JobJudgement {
  slot: number
  settings: SeriesSettings
  /** Every configured window, in the detector's order, each with the options it was judged with. */
  windows: { detection: Detection; options: VolumeOptions }[]
  /** The verdict a run stores (the strongest window; without an anomaly the day window's, see `strongest`). */
  decided: Detection
}

/** The parameters a run does not take: with detector=job they would make the reply something no run stores. */
const SEED_ONLY_PARAMETERS = [
  ['baselineDays', 'baseline_days'],
  ['threshold', 'threshold'],
  ['criticalThreshold', 'critical_threshold'],
] as const

/**
 * Refuses the seed's tuning parameters with detector=job: its answer is what a run stores, and a run takes its
 * settings from the configuration and the customer registry, not from the request.
 */
export function refuseSeedParameters(
  request: Partial<Record<(typeof SEED_ONLY_PARAMETERS)[number][0], number>>,
) {
  const issues: FieldIssue[] = SEED_ONLY_PARAMETERS.filter(([key]) => request[key] !== undefined).map(
    ([, field]) => ({
      field,
      reason:
        "is not taken with detector=job: a run judges with the job's settings (the customer's overrides, PUT /v1/customers/:id, else the configured ones); use detector=seed to choose it",
    }),
  )
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid check: ${issues.map((i) => i.field).join(', ')} not taken with detector=job`,
      issues,
    )
  }
}

const JOB_WINDOW_REASONS: Record<SlotWindowProblem, string> = {
  end_required_with_start:
    'is required with current_start for detector=job: a run judges the 24 hours before its slot, a whole hour (give both, only current_end, or neither for the latest slot)',
  end_not_whole_hour:
    'must be a whole hour for detector=job (a run judges the 24 hours before its slot, a whole hour)',
  end_in_future: 'must not be in the future for detector=job (no run can judge a slot that has not come)',
  start_not_day_before_end:
    'must be exactly 24 hours before current_end for detector=job (a run judges the 24 hours before its slot)',
}

/**
 * The slot a detector=job check judges: current_end, a whole hour that has passed, with current_start 24 hours
 * before it or absent; neither given: the latest slot (the current hour's start). Otherwise a ValidationError naming
 * the field and the reason.
 */
export function jobSlot(window: Parameters<typeof slotWindow>[0]): number {
  const w = slotWindow(window)
  if (w.ok) return w.slot
  const reason = JOB_WINDOW_REASONS[w.problem]
  throw new ValidationError(`invalid ${w.field}: ${reason}`, [{ field: w.field, reason }])
}

/** The volume signal of a detector=job check: the job's verdict for `slot`, computed as the dashboard's series is. */
export async function checkVolumeAsJob(
  deps: SeriesDeps,
  customerId: string,
  definition: MetricDefinition,
  slot: number,
): Promise<VolumeCheck> {
  const settings = await seriesSettings(deps, customerId, definition)
  const [judged] = await judgeSlots(deps, settings, slot, slot)
  if (!judged) throw new Error(`no judgement for slot ${slot}`)
  const { detector, options } = settings
  const windows = judged.judged.map((detection) => ({
    detection,
    options: windowOptions(detection.window, detector, options),
  }))
  const decided = judged.verdict
  return {
    current: { startMs: decided.windowStart, endMs: decided.windowEnd },
    baselineSpan: sampleSpan(decided, settings, slot),
    baselineDays: settings.baselineDays,
    options: windowOptions(decided.window, detector, options),
    verdict: decided.verdict,
    job: { slot, settings, windows, decided },
  }
}

/**
 * The span a window's baseline samples are drawn from, oldest start to newest end (null without samples): the same
 * window on previous days (day, hour), or the hours before it (recent), from the series' first hour on. The detector
 * may leave some of them out (days of the other day type, labelled periods), so this bounds the samples.
 */
function sampleSpan(d: Detection, settings: SeriesSettings, slot: number): TimeWindow | null {
  if (d.verdict.baseline.samples === 0 || settings.firstEventMs === null) return null
  const first = settings.firstEventMs
  if (d.window === 'recent') {
    return {
      startMs: Math.max(slot - (settings.detector.recentHours + 1) * HOUR_MS, first),
      endMs: slot - HOUR_MS,
    }
  }
  const length = d.windowEnd - d.windowStart
  const days = Math.min(settings.baselineDays, Math.floor((slot - length - first) / DAY_MS))
  return { startMs: slot - days * DAY_MS - length, endMs: slot - DAY_MS }
}
