import { detectorToJson } from '../domain/detector-settings.js'
import type { ShapeNoVerdictReason } from '../domain/signals/shape-signal.js'
import { toIso } from '../domain/time.js'
import type { VolumeOptions, VolumeVerdict } from '../domain/volume.js'
import type { TimeWindow } from '../domain/windows.js'
import type { CheckResult, VolumeCheck } from './check-anomaly.js'
import type { JobJudgement } from './check-job.js'
import type { ShapeCheck } from './check-shape.js'

type EvaluatedShape = Extract<ShapeCheck, { status: 'evaluated' }>

const iso = (w: TimeWindow) => ({ start: toIso(w.startMs), end: toIso(w.endMs) })
const isoProfileWindow = (w: { start: number; end: number }) => ({ start: toIso(w.start), end: toIso(w.end) })

/**
 * The seed's field names, plus what a reader needs to trust the verdict, plus each signal the mode evaluated
 * (`volume`, `shape`) and which fired. The top-level verdict (is_anomaly, severity, direction, status) is the
 * mode's: volume's, shape's, or volume OR shape. The other top-level figures are volume's, as in the seed, except
 * in shape mode, where they describe the day as shape alerts do (the day's total against the baseline days' totals,
 * z_score null).
 */
export function checkReport(result: CheckResult) {
  // detector=job says so, and how the job decided; the seed's reply is unchanged (no field added).
  const job =
    result.detector === 'job'
      ? { detector: result.detector, ...(result.volume?.job ? jobFields(result.volume.job) : {}) }
      : {}
  const signals = {
    mode: result.mode,
    fired: result.combined.fired,
    ...(result.volume ? { volume: volumeReport(result.volume) } : {}),
    ...(result.shape ? { shape: shapeReport(result.shape) } : {}),
  }
  if (result.volume === null) {
    // Shape mode: a window shape cannot judge is a 400, so the check is evaluated.
    if (result.shape?.status !== 'evaluated') throw new Error('a shape-mode check without a shape verdict')
    return { ...shapeSeedFields(result, result.shape), ...job, ...signals }
  }
  const seed = volumeSeedFields(result, result.volume)
  const message = volumeMessage(result.volume)
  if (result.mode === 'volume')
    return { ...seed, ...(message === undefined ? {} : { message }), ...job, ...signals }
  const { combined } = result
  const status = combined.judged ? 'ok' : 'insufficient_data'
  return {
    ...seed,
    status,
    is_anomaly: combined.isAnomaly,
    severity: combined.severity,
    direction: combined.direction,
    ...(status === 'insufficient_data' && message !== undefined ? { message } : {}),
    ...job,
    ...signals,
  }
}

/** The seed's body for the volume check (its message aside), byte for byte what it was before signals. */
function volumeSeedFields(result: CheckResult, volume: VolumeCheck) {
  const { verdict, options } = volume
  return {
    customer_id: result.customerId,
    metric: result.metric,
    aggregation: result.aggregation,
    status: verdict.status,
    is_anomaly: verdict.isAnomaly,
    severity: verdict.severity,
    direction: verdict.isAnomaly ? verdict.direction : null,
    current_value: verdict.currentValue,
    z_score: verdict.zScore,
    baseline: {
      ...baselineFields(verdict, options),
      window: volume.baselineSpan ? iso(volume.baselineSpan) : null,
    },
    current_window: iso(volume.current),
    baseline_days: volume.baselineDays,
    threshold: options.threshold,
    critical_threshold: options.criticalThreshold,
    method: volume.job ? volume.job.settings.detector.statistic : 'zscore',
  }
}

function volumeMessage({ verdict, options, baselineDays, job }: VolumeCheck): string | undefined {
  if (verdict.status !== 'insufficient_data') return undefined
  if (job) {
    const counts = job.windows.map(
      (w) => `${w.detection.window} ${w.detection.verdict.baseline.samples} of ${w.options.minSamples}`,
    )
    return `no window of the job's detector has enough baseline samples for a verdict (samples of needed: ${counts.join(', ')})`
  }
  return `only ${verdict.baseline.samples} baseline sample(s) in the last ${baselineDays} days; at least ${options.minSamples} are needed for a verdict`
}

/** A volume verdict's baseline as the seed's `baseline` and each window verdict's state it (same order). */
function baselineFields(verdict: VolumeVerdict, options: VolumeOptions) {
  return {
    mean: verdict.baseline.mean,
    stddev: verdict.baseline.stddev,
    effective_stddev: verdict.baseline.effectiveStddev,
    samples: verdict.baseline.samples,
    min_samples: options.minSamples,
  }
}

/** A volume verdict as the `volume` block and each of `window_verdicts` state it (same names, same order). */
function volumeVerdictFields(verdict: VolumeVerdict) {
  return {
    status: verdict.status,
    is_anomaly: verdict.isAnomaly,
    severity: verdict.severity,
    direction: verdict.isAnomaly ? verdict.direction : null,
    z_score: verdict.zScore,
    current_value: verdict.currentValue,
  }
}

function volumeReport(volume: VolumeCheck) {
  const { verdict, options } = volume
  const message = volumeMessage(volume)
  return {
    ...volumeVerdictFields(verdict),
    threshold: options.threshold,
    critical_threshold: options.criticalThreshold,
    ...(volume.job ? { window: volume.job.decided.window } : {}),
    ...(message === undefined ? {} : { message }),
  }
}

/** How the job decided: the slot, the window that won, the bar it had to clear, its settings, every window. */
function jobFields(job: JobJudgement) {
  return {
    slot: toIso(job.slot),
    window: job.decided.window,
    calibrated_threshold: job.decided.calibratedThreshold ?? null,
    checked: job.settings.checked,
    detector_settings: detectorToJson(job.settings.detector),
    window_verdicts: job.windows.map(({ detection, options }) => {
      const { verdict } = detection
      return {
        window: detection.window,
        ...volumeVerdictFields(verdict),
        current_window: iso({ startMs: detection.windowStart, endMs: detection.windowEnd }),
        baseline: baselineFields(verdict, options),
        threshold: options.threshold,
        critical_threshold: options.criticalThreshold,
        calibrated_threshold: detection.calibratedThreshold ?? null,
      }
    }),
  }
}

/** Shape mode's top-level fields: the seed's names, filled as a shape alert fills them. */
function shapeSeedFields(result: CheckResult, shape: EvaluatedShape) {
  const { verdict } = shape.evaluation
  const oldest = shape.baselineWindows[shape.baselineWindows.length - 1]
  const newest = shape.baselineWindows[0]
  const message = shapeMessage(shape)
  return {
    customer_id: result.customerId,
    metric: result.metric,
    aggregation: result.aggregation,
    status: verdict.status,
    is_anomaly: verdict.isAnomaly,
    severity: verdict.severity,
    direction: verdict.direction,
    current_value: verdict.currentValue,
    z_score: null,
    baseline: {
      mean: shape.baselineMean,
      stddev: shape.baselineStddev,
      effective_stddev: shape.baselineStddev,
      samples: shape.baselineDaysUsed,
      min_samples: shape.config.minBaselineWeeks,
      window: oldest && newest ? { start: toIso(oldest.start), end: toIso(newest.end) } : null,
    },
    current_window: isoProfileWindow(shape.window),
    baseline_days: shape.config.baselineWeeks * 7,
    threshold: shape.config.threshold,
    critical_threshold: shape.config.criticalThreshold,
    method: 'shape',
    ...(message === undefined ? {} : { message }),
  }
}

function shapeMessage(shape: EvaluatedShape): string | undefined {
  const reason: ShapeNoVerdictReason | null = shape.evaluation.reason
  const { config } = shape
  switch (reason) {
    case null:
      return undefined
    case 'empty_day':
      return 'no usage in the window: an empty day has no shape (volume judges it)'
    case 'low_volume':
      return `the day's total ${shape.evaluation.verdict.currentValue} is below min_daily_volume (${config.minDailyVolume}): too little usage to have a shape`
    case 'too_few_baseline_days':
      return `only ${shape.baselineDaysUsed} usable baseline day(s) (the same hours of the same weekday in the last ${config.baselineWeeks} weeks, empty and low-volume days skipped); at least ${config.minBaselineWeeks} are needed for a verdict`
  }
}

function shapeReport(shape: ShapeCheck) {
  if (shape.status === 'not_evaluated') {
    return {
      status: 'not_evaluated' as const,
      is_anomaly: false,
      severity: null,
      direction: null,
      reason: 'window_not_judgeable',
      field: shape.field,
      message: `${shape.field} ${shape.reason}`,
    }
  }
  const { evaluation, config } = shape
  const { verdict, fields } = evaluation
  const message = shapeMessage(shape)
  return {
    status: verdict.status,
    is_anomaly: verdict.isAnomaly,
    severity: verdict.severity,
    direction: verdict.direction,
    reason: evaluation.reason,
    ...(message === undefined ? {} : { message }),
    window: isoProfileWindow(shape.window),
    window_basis: shape.basis,
    similarity: fields?.shapeSimilarity ?? null,
    mean_similarity: fields?.meanSimilarity ?? null,
    nearest_similarity: fields?.nearestSimilarity ?? null,
    deviation_hour: fields?.deviationHour ?? null,
    variant: config.variant,
    threshold: config.threshold,
    critical_threshold: config.criticalThreshold,
    baseline_weeks: shape.baselineDaysUsed,
    configured_baseline_weeks: config.baselineWeeks,
    min_baseline_weeks: config.minBaselineWeeks,
    min_daily_volume: config.minDailyVolume,
    current_total: verdict.currentValue,
    baseline_total: { mean: shape.baselineMean, stddev: shape.baselineStddev },
    baseline_windows: shape.baselineWindows.map(isoProfileWindow),
    profile: shape.profile,
    baseline_profile: shape.baselineProfile?.profile ?? null,
    baseline_profile_scale: shape.baselineProfile?.scale ?? null,
  }
}
