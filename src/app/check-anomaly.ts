import { BOUNDS, inRange, MAX_CHECK_WINDOW_MS, type NumberRange, rangeReason } from '../domain/limits.js'
import { DAY_MS, MIN_TIMESTAMP_MS } from '../domain/time.js'
import { type VolumeOptions, type VolumeVerdict, volumeVerdict } from '../domain/volume.js'
import { baselineWindows, samplesSince, type TimeWindow } from '../domain/windows.js'
import { ValidationError } from '../errors.js'
import type { Clock, UsageStore } from '../ports.js'
import type { MetricCatalog } from './metric-catalog.js'

export interface CheckRequest {
  customerId: string
  metric: string
  /** Defaults: the 24 hours up to now. */
  currentStartMs?: number
  currentEndMs?: number
  baselineDays?: number
  threshold?: number
  criticalThreshold?: number
}

export interface CheckResult {
  customerId: string
  metric: string
  aggregation: string
  current: TimeWindow
  baselineSpan: TimeWindow | null
  baselineDays: number
  options: VolumeOptions
  verdict: VolumeVerdict
}

export interface CheckDeps {
  usage: UsageStore
  metrics: MetricCatalog
  clock: Clock
  defaults: VolumeOptions & { baselineDays: number }
}

/** The on-demand volume check: the current window against the same window on previous days. */
export async function checkAnomaly(deps: CheckDeps, request: CheckRequest): Promise<CheckResult> {
  const definition =
    deps.metrics.current().get(request.metric) ?? (await deps.metrics.refresh()).get(request.metric)
  if (!definition) {
    throw new ValidationError(`unknown metric '${request.metric}'`, [
      { field: 'metric', reason: `must be one of: ${deps.metrics.current().names().join(', ')}` },
    ])
  }
  const now = deps.clock.now()
  const endMs = request.currentEndMs ?? now
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
  const firstHour = await deps.usage.firstEventHour(request.customerId, request.metric)
  const samples = samplesSince(baselineWindows(current, baselineDays), firstHour)
  const aggregates = await deps.usage.aggregateWindows(
    request.customerId,
    request.metric,
    definition.aggregation,
    [current, ...samples],
  )
  const currentValue = aggregates[0]?.value ?? 0
  const verdict = volumeVerdict(
    currentValue,
    aggregates.slice(1).map((a) => a.value),
    options,
  )
  const oldest = samples[samples.length - 1]
  const newest = samples[0]
  return {
    customerId: request.customerId,
    metric: request.metric,
    aggregation: definition.aggregation,
    current,
    baselineSpan: oldest && newest ? { startMs: oldest.startMs, endMs: newest.endMs } : null,
    baselineDays,
    options,
    verdict,
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
