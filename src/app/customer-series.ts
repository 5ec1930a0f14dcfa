import type { Detection, DetectorConfig, WindowKind } from '../domain/detector.js'
import { windowOptions } from '../domain/detector.js'
import { DAY_MS, floorToHour, HOUR_MS, MIN_TIMESTAMP_MS } from '../domain/time.js'
import type { VolumeOptions } from '../domain/volume.js'
import { type FieldIssue, ValidationError } from '../errors.js'
import { judgeSlots, type SeriesDeps, seriesSettings } from './series-verdicts.js'

/** The longest range a series request may cover: 30 days of hourly slots (721 points at most). */
export const MAX_SERIES_RANGE_MS = 30 * DAY_MS

export interface SeriesRequest {
  customerId: string
  metric: string
  /** Inclusive; default: 7 days before `untilMs`. */
  sinceMs?: number
  /** Exclusive; default: the end of the current hour (its slot is the last point). */
  untilMs?: number
}

/** One hourly slot S: the window ending at S and the baseline the detector judged it against. */
export interface SeriesPoint {
  slot: number
  value: number
  status: 'ok' | 'insufficient_data'
  baselineMean: number
  baselineStddev: number
  /** The stddev z divides by (after the floor). */
  effectiveStddev: number
  samples: number
  /** mean -/+ threshold x effectiveStddev: outside it is an anomaly; null without a verdict. */
  lower: number | null
  upper: number | null
  zScore: number | null
  /** The detector's verdict over all its windows (what a run for this slot stores, before persistence rules). */
  anomaly: (Pick<Detection, 'window'> & { zScore: number; severity: string; direction: string | null }) | null
}

export interface CustomerSeries {
  customerId: string
  metric: string
  aggregation: 'sum' | 'max'
  /** The window plotted: the day window when the detector uses it, else the hour window, else the recent one. */
  window: WindowKind
  sinceMs: number
  untilMs: number
  baselineDays: number
  options: VolumeOptions
  detector: DetectorConfig
  /** Whether the job checks this series (the customer is active and the metric among its metrics). */
  checked: boolean
  firstEventMs: number | null
  points: SeriesPoint[]
}

/**
 * A customer's metric as the detection job sees it, slot by slot: for every hourly slot in [since, until) (up to
 * the current hour), the window's value and the baseline the job's detector computes for it (the domain's
 * statistics on the usage store's rollup, with the customer's thresholds and detector and today's labels).
 */
export async function customerSeries(deps: SeriesDeps, request: SeriesRequest): Promise<CustomerSeries> {
  const definition =
    deps.metrics.current().get(request.metric) ?? (await deps.metrics.refresh()).get(request.metric)
  if (!definition) {
    throw new ValidationError(`unknown metric '${request.metric}'`, [
      { field: 'metric', reason: `must be one of: ${deps.metrics.current().names().join(', ')}` },
    ])
  }
  const now = deps.clock.now()
  const { sinceMs, untilMs } = checkRange(request, now)
  const settings = await seriesSettings(deps, request.customerId, definition)
  const { detector, options } = settings
  const window: WindowKind = detector.windows.includes('day')
    ? 'day'
    : detector.windows.includes('hour')
      ? 'hour'
      : 'recent'
  // The band and the thresholds shown are the plotted window's (the hour and recent windows have their own).
  const plottedOptions = windowOptions(window, detector, options)

  // Slots on the hour in [since, until), none beyond the current hour (a later window has not ended).
  const first = Math.ceil(sinceMs / HOUR_MS) * HOUR_MS
  const last = Math.min(Math.ceil(untilMs / HOUR_MS) * HOUR_MS - HOUR_MS, floorToHour(now))
  const slots = await judgeSlots(deps, settings, first, last)
  return {
    customerId: request.customerId,
    metric: request.metric,
    aggregation: definition.aggregation,
    window,
    sinceMs,
    untilMs,
    baselineDays: settings.baselineDays,
    options: plottedOptions,
    detector,
    checked: settings.checked,
    firstEventMs: settings.firstEventMs,
    points: slots.map(({ slot, judged, verdict: best }) => {
      const plotted = judged.find((d) => d.window === window) as Detection
      const { verdict } = best
      const { baseline } = plotted.verdict
      const ok = plotted.verdict.status === 'ok'
      const reach = plottedOptions.threshold * baseline.effectiveStddev
      return {
        slot,
        value: plotted.verdict.currentValue,
        status: plotted.verdict.status,
        baselineMean: baseline.mean,
        baselineStddev: baseline.stddev,
        effectiveStddev: baseline.effectiveStddev,
        samples: baseline.samples,
        lower: ok ? baseline.mean - reach : null,
        upper: ok ? baseline.mean + reach : null,
        zScore: plotted.verdict.zScore,
        anomaly:
          verdict.isAnomaly && verdict.zScore !== null && verdict.severity
            ? {
                window: best.window,
                zScore: verdict.zScore,
                severity: verdict.severity,
                direction: verdict.direction,
              }
            : null,
      }
    }),
  }
}

function checkRange(request: SeriesRequest, now: number): { sinceMs: number; untilMs: number } {
  const latest = floorToHour(now) + HOUR_MS
  const untilMs = request.untilMs ?? latest
  const sinceMs = request.sinceMs ?? untilMs - 7 * DAY_MS
  const issues: FieldIssue[] = []
  if (request.sinceMs !== undefined && sinceMs < MIN_TIMESTAMP_MS) {
    issues.push({ field: 'since', reason: 'must be a time on or after 2000-01-01' })
  }
  if (untilMs < MIN_TIMESTAMP_MS)
    issues.push({ field: 'until', reason: 'must be a time on or after 2000-01-01' })
  if (untilMs > latest) {
    issues.push({ field: 'until', reason: 'must not be after the end of the current hour' })
  }
  if (issues.length === 0 && sinceMs >= untilMs)
    issues.push({ field: 'since', reason: 'must be before until' })
  if (issues.length === 0 && untilMs - sinceMs > MAX_SERIES_RANGE_MS) {
    issues.push({
      field: 'until',
      reason: `must be at most ${MAX_SERIES_RANGE_MS / DAY_MS} days after since`,
    })
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid series range: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
  return { sinceMs, untilMs }
}
