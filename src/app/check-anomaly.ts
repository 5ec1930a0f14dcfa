import { BOUNDS, inRange, MAX_CHECK_WINDOW_MS, type NumberRange, rangeReason } from '../domain/limits.js'
import type { MetricDefinition } from '../domain/metrics.js'
import {
  CHECK_MODES,
  type CheckMode,
  type CombinedVerdict,
  combineVerdicts,
  DEFAULT_CHECK_MODE,
  isCheckMode,
  modeSignals,
} from '../domain/signals/combined-verdict.js'
import { type ShapeCheckWindow, shapeCheckWindow } from '../domain/signals/shape/check-window.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import type { SignalVerdict } from '../domain/signals/signal.js'
import { SHAPE_KIND, type SignalKind, VOLUME_KIND } from '../domain/signals/signal-registry.js'
import { volumeSignalVerdict } from '../domain/signals/volume-signal.js'
import { DAY_MS, MIN_TIMESTAMP_MS } from '../domain/time.js'
import { type VolumeOptions, type VolumeVerdict, volumeVerdict } from '../domain/volume.js'
import { baselineStepMs, baselineWindows, samplesSince, type TimeWindow } from '../domain/windows.js'
import { ValidationError } from '../errors.js'
import type { Clock, UsageStore, VectorIndex } from '../ports.js'
import {
  CHECK_DETECTORS,
  type CheckDetector,
  checkVolumeAsJob,
  DEFAULT_CHECK_DETECTOR,
  isCheckDetector,
  type JobJudgement,
  jobSlot,
  refuseSeedParameters,
} from './check-job.js'
import { checkShape, type ShapeCheck } from './check-shape.js'
import type { MetricCatalog } from './metric-catalog.js'
import type { SeriesDeps } from './series-verdicts.js'

export interface CheckRequest {
  customerId: string
  metric: string
  /** Defaults: the 24 hours up to now. */
  currentStartMs?: number
  currentEndMs?: number
  baselineDays?: number
  threshold?: number
  criticalThreshold?: number
  /** Which signals to evaluate; default combined (volume and shape). */
  mode?: CheckMode
  /** Whose method judges volume: the seed's (default) or the detection job's for the slot current_end. */
  detector?: CheckDetector
}

/**
 * The volume half: the current window against the same window on previous days (the seed's check), or, with
 * detector=job, the verdict a run for the slot stores (its figures are the deciding window's).
 */
export interface VolumeCheck {
  /** The window current_value aggregates: the one asked for, or (job) the window that decided. */
  current: TimeWindow
  baselineSpan: TimeWindow | null
  baselineDays: number
  /** The options the verdict was judged with (job: the deciding window's thresholds). */
  options: VolumeOptions
  verdict: VolumeVerdict
  /** detector=job: how the job decided; null for the seed's method. */
  job: JobJudgement | null
}

export interface CheckResult {
  customerId: string
  metric: string
  aggregation: string
  mode: CheckMode
  detector: CheckDetector
  /** The window asked for (volume's; shape's own is in `shape`). */
  current: TimeWindow
  /** Present when the mode evaluates volume. */
  volume: VolumeCheck | null
  /** Present when the mode evaluates shape. */
  shape: ShapeCheck | null
  /** The mode's signals as one verdict (volume OR shape in combined mode). */
  combined: CombinedVerdict
}

export interface CheckDeps {
  usage: UsageStore
  metrics: MetricCatalog
  clock: Clock
  defaults: VolumeOptions & { baselineDays: number }
  /**
   * The shape settings (config detection.shape). The check uses them whether or not the job computes shape: a
   * check is asked for, so it costs only the one who asks.
   */
  shape: ShapeConfig
  /** Where shape's profiles come from: the job's own index (embedded rollup or Redis Vector Sets). */
  shapeIndex: VectorIndex
  /** What detector=job judges with: the detection job's own dependencies (settings, registry, labels). */
  job: SeriesDeps
}

/**
 * The on-demand check of one series: volume (the current window against the same window on previous days) and/or
 * shape (24 hourly values against the same weekday of previous weeks), as the mode says. Every parameter is
 * validated in every mode; a window shape cannot judge is a ValidationError in shape mode and "not evaluated" in
 * combined mode.
 */
export async function checkAnomaly(deps: CheckDeps, request: CheckRequest): Promise<CheckResult> {
  const mode = request.mode ?? DEFAULT_CHECK_MODE
  if (!isCheckMode(mode)) {
    throw new ValidationError(`invalid mode '${String(mode)}'`, [
      { field: 'mode', reason: `must be one of: ${CHECK_MODES.join(', ')}` },
    ])
  }
  const detector = request.detector ?? DEFAULT_CHECK_DETECTOR
  if (!isCheckDetector(detector)) {
    throw new ValidationError(`invalid detector '${String(detector)}'`, [
      { field: 'detector', reason: `must be one of: ${CHECK_DETECTORS.join(', ')}` },
    ])
  }
  if (detector === 'job') refuseSeedParameters(request)
  const definition =
    deps.metrics.current().get(request.metric) ?? (await deps.metrics.refresh()).get(request.metric)
  if (!definition) {
    throw new ValidationError(`unknown metric '${request.metric}'`, [
      { field: 'metric', reason: `must be one of: ${deps.metrics.current().names().join(', ')}` },
    ])
  }
  const now = deps.clock.now()
  const startGiven = request.currentStartMs !== undefined
  const endGiven = request.currentEndMs !== undefined
  // detector=job: a run's window, [S - 24 h, S) for a slot S that has passed (default: the latest slot).
  const jobSlotMs =
    detector === 'job'
      ? jobSlot({
          startMs: request.currentStartMs ?? Number.NaN,
          endMs: request.currentEndMs ?? now,
          startGiven,
          endGiven,
          nowMs: now,
        })
      : null
  const endMs = jobSlotMs ?? request.currentEndMs ?? now
  const startMs = request.currentStartMs ?? endMs - DAY_MS
  checkWindow(startMs, endMs, now, request.currentStartMs === undefined)
  const baselineDays = request.baselineDays ?? deps.defaults.baselineDays
  const threshold = request.threshold ?? deps.defaults.threshold
  const criticalThreshold = request.criticalThreshold ?? Math.max(deps.defaults.criticalThreshold, threshold)
  checkBounds([
    ['baseline_days', baselineDays, BOUNDS.baselineDays],
    ['threshold', threshold, BOUNDS.threshold],
    ['critical_threshold', criticalThreshold, BOUNDS.threshold],
  ])
  if (criticalThreshold < threshold) {
    throw new ValidationError('critical_threshold must be at least threshold', [
      { field: 'critical_threshold', reason: `must be >= threshold (${threshold})` },
    ])
  }
  const options: VolumeOptions = { ...deps.defaults, threshold, criticalThreshold }
  const current: TimeWindow = { startMs, endMs }
  const kinds = modeSignals(mode)
  let shapeSlot: Extract<ShapeCheckWindow, { ok: true }> | null = null
  let shapeSkipped: ShapeCheck | null = null
  if (kinds.includes(SHAPE_KIND)) {
    const window = shapeCheckWindow({
      startMs,
      endMs,
      startGiven,
      endGiven,
      nowMs: now,
    })
    if (window.ok) shapeSlot = window
    else if (mode === 'shape')
      throw new ValidationError(`invalid ${window.field}: ${window.reason}`, [
        { field: window.field, reason: window.reason },
      ])
    else shapeSkipped = { status: 'not_evaluated', field: window.field, reason: window.reason }
  }
  const series = {
    customerId: request.customerId,
    metric: request.metric,
    aggregation: definition.aggregation,
  }
  const [volume, shape] = await Promise.all([
    !kinds.includes(VOLUME_KIND)
      ? null
      : jobSlotMs !== null
        ? checkVolumeAsJob(deps.job, request.customerId, definition, jobSlotMs)
        : checkVolume(deps.usage, definition, request.customerId, current, baselineDays, options),
    shapeSlot
      ? checkShape(deps.shapeIndex, deps.shape, series, shapeSlot.slot, shapeSlot.basis)
      : shapeSkipped,
  ])
  const verdicts: SignalVerdict<SignalKind>[] = []
  if (volume) verdicts.push(volumeSignalVerdict(volume.verdict))
  if (shape?.status === 'evaluated') verdicts.push(shape.evaluation.verdict)
  return { ...series, mode, detector, current, volume, shape, combined: combineVerdicts(verdicts) }
}

async function checkVolume(
  usage: UsageStore,
  definition: MetricDefinition,
  customerId: string,
  current: TimeWindow,
  baselineDays: number,
  options: VolumeOptions,
): Promise<VolumeCheck> {
  // The current window and every baseline window with the first hour, in one read; samples are the windows
  // since the first hour (a prefix of the baseline windows, nearest first).
  const windows = baselineWindows(current, baselineDays)
  const history = await usage.windowHistory({
    customerId,
    metric: definition.name,
    aggregation: definition.aggregation,
    window: current,
    stepMs: baselineStepMs(current),
    count: windows.length,
  })
  const samples = samplesSince(windows, history.firstEventHourMs)
  const aggregates = history.aggregates.slice(0, 1 + samples.length)
  const currentValue = aggregates[0]?.value ?? 0
  const verdict = volumeVerdict(
    currentValue,
    aggregates.slice(1).map((a) => a.value),
    options,
  )
  const oldest = samples[samples.length - 1]
  const newest = samples[0]
  return {
    current,
    baselineSpan: oldest && newest ? { startMs: oldest.startMs, endMs: newest.endMs } : null,
    baselineDays,
    options,
    verdict,
    job: null,
  }
}

/**
 * The current window: real times, begun by now (a window that has not started has nothing to judge) and at most
 * MAX_CHECK_WINDOW_MS long, so its baseline (at most baselineDays more) stays a bounded scan.
 */
function checkWindow(startMs: number, endMs: number, nowMs: number, startDefaulted: boolean): void {
  const fail = (field: string, reason: string): never => {
    throw new ValidationError(`invalid ${field}: ${reason}`, [{ field, reason }])
  }
  for (const [field, ms] of [
    ['current_start', startMs],
    ['current_end', endMs],
  ] as const) {
    if (!Number.isFinite(ms) || ms < MIN_TIMESTAMP_MS) fail(field, 'must be a time on or after 2000-01-01')
  }
  if (startMs >= endMs) fail('current_start', 'must be before current_end')
  if (startMs > nowMs) {
    fail(
      startDefaulted ? 'current_end' : 'current_start',
      startDefaulted
        ? 'must be at most 24 hours ahead when current_start is not given (the window must have begun)'
        : 'must not be in the future (the window must have begun)',
    )
  }
  if (endMs - startMs > MAX_CHECK_WINDOW_MS) {
    fail('current_end', `must be at most ${MAX_CHECK_WINDOW_MS / DAY_MS} days after current_start`)
  }
}

function checkBounds(values: [field: string, value: number, range: NumberRange][]): void {
  const issues = values
    .filter(([, value, range]) => !inRange(value, range))
    .map(([field, , range]) => ({ field, reason: rangeReason(range) }))
  if (issues.length > 0) {
    const summary = issues.map((i) => `${i.field} ${i.reason}`).join('; ')
    throw new ValidationError(`invalid check: ${summary}`, issues)
  }
}
