import { DAY_MS } from '../domain/time.js'
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
  const endMs = request.currentEndMs ?? deps.clock.now()
  const startMs = request.currentStartMs ?? endMs - DAY_MS
  if (startMs >= endMs) {
    throw new ValidationError('current_start must be before current_end', [
      { field: 'current_start', reason: 'must be before current_end' },
    ])
  }
  const baselineDays = request.baselineDays ?? deps.defaults.baselineDays
  const threshold = request.threshold ?? deps.defaults.threshold
  const criticalThreshold = request.criticalThreshold ?? Math.max(deps.defaults.criticalThreshold, threshold)
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
