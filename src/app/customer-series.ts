import type { Detection, DetectorConfig, WindowKind } from '../domain/detector.js'
import { judgeWindows, strongest, windowOptions } from '../domain/detector.js'
import { feedbackExclusion, type TimeRange } from '../domain/incident.js'
import { DAY_MS, floorToHour, HOUR_MS, MIN_TIMESTAMP_MS } from '../domain/time.js'
import type { VolumeOptions } from '../domain/volume.js'
import type { TimeWindow } from '../domain/windows.js'
import { type FieldIssue, ValidationError } from '../errors.js'
import { isChecked, optionsFor } from './evaluate-range.js'
import type { DetectionDeps } from './run-detection.js'

/** The longest range a series request may cover: 30 days of hourly slots (721 points at most). */
export const MAX_SERIES_RANGE_MS = 30 * DAY_MS
/** Hourly windows per usage-store request: each request scans only its own hours of the rollup. */
const HOURS_PER_READ = 31 * 24

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

export type SeriesDeps = Pick<
  DetectionDeps,
  'usage' | 'anomalies' | 'metrics' | 'clock' | 'volume' | 'detectorFor' | 'excludedLabels'
>

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
  const profile = (await deps.anomalies.getCustomer(request.customerId)) ?? undefined
  const base = deps.detectorFor(request.metric)
  const detector: DetectorConfig = profile?.detector ? { ...base, ...profile.detector } : base
  const options = optionsFor(deps.volume, profile)
  const baselineDays = deps.volume.baselineDays
  const window: WindowKind = detector.windows.includes('day')
    ? 'day'
    : detector.windows.includes('hour')
      ? 'hour'
      : 'recent'
  const recentHours = detector.windows.includes('recent') ? detector.recentHours : 0
  // The band and the thresholds shown are the plotted window's (the hour and recent windows have their own).
  const plottedOptions = windowOptions(window, detector, options)

  // Slots on the hour in [since, until), none beyond the current hour (a later window has not ended).
  const first = Math.ceil(sinceMs / HOUR_MS) * HOUR_MS
  const last = Math.min(Math.ceil(untilMs / HOUR_MS) * HOUR_MS - HOUR_MS, floorToHour(now))
  const series: CustomerSeries = {
    customerId: request.customerId,
    metric: request.metric,
    aggregation: definition.aggregation,
    window,
    sinceMs,
    untilMs,
    baselineDays,
    options: plottedOptions,
    detector,
    checked: isChecked(profile, { metric: request.metric }),
    firstEventMs: await deps.usage.firstEventHour(request.customerId, request.metric),
    points: [],
  }
  if (last < first) return series

  // Every hour any slot's windows read: from the oldest baseline day of the first slot to the last slot.
  const lo = first - Math.max((baselineDays + 1) * DAY_MS, (recentHours + 1) * HOUR_MS)
  const hours = await hourlyValues(deps, request, definition.aggregation, lo, last)
  const at = (hourStart: number) => hours[(hourStart - lo) / HOUR_MS] ?? 0
  const combine =
    definition.aggregation === 'sum'
      ? (a: number, b: number) => a + b
      : (a: number, b: number) => Math.max(a, b)
  const windowValue = (end: number, length: number) => {
    let value = definition.aggregation === 'sum' ? 0 : Number.NEGATIVE_INFINITY
    for (let h = end - length; h < end; h += HOUR_MS) value = combine(value, at(h))
    return value
  }
  const excluded = await exclusions(deps, request, lo)
  const firstHourMs = series.firstEventMs ?? Number.POSITIVE_INFINITY
  for (let slot = first; slot <= last; slot += HOUR_MS) {
    const daily: number[] = []
    const hourly: number[] = []
    for (let k = 0; k <= baselineDays; k++) {
      daily.push(windowValue(slot - k * DAY_MS, DAY_MS))
      hourly.push(at(slot - k * DAY_MS - HOUR_MS))
    }
    const recent = Array.from({ length: recentHours }, (_, j) => at(slot - (j + 2) * HOUR_MS))
    const judged = judgeWindows({ slot, firstHourMs, daily, hourly, recent, excluded }, detector, options)
    const plotted = judged.find((d) => d.window === window) as Detection
    const best = strongest(judged)
    const { verdict } = best
    const { baseline } = plotted.verdict
    const ok = plotted.verdict.status === 'ok'
    const reach = plottedOptions.threshold * baseline.effectiveStddev
    series.points.push({
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
    })
  }
  return series
}

/** The metric's aggregate of every hour in [lo, last), oldest first, in reads of HOURS_PER_READ windows. */
async function hourlyValues(
  deps: SeriesDeps,
  request: SeriesRequest,
  aggregation: 'sum' | 'max',
  lo: number,
  hi: number,
): Promise<number[]> {
  const values: number[] = []
  for (let start = lo; start < hi; start += HOURS_PER_READ * HOUR_MS) {
    const windows: TimeWindow[] = []
    for (let h = start; h < Math.min(hi, start + HOURS_PER_READ * HOUR_MS); h += HOUR_MS) {
      windows.push({ startMs: h, endMs: h + HOUR_MS })
    }
    const aggregates = await deps.usage.aggregateWindows(
      request.customerId,
      request.metric,
      aggregation,
      windows,
    )
    for (const a of aggregates) values.push(a.value)
  }
  return values
}

/** Periods people labelled that the job leaves out of this series' baselines (as it would today). */
async function exclusions(deps: SeriesDeps, request: SeriesRequest, since: number): Promise<TimeRange[]> {
  const labels = deps.excludedLabels ?? ['planned']
  return (await deps.anomalies.labelledIncidents(since))
    .filter(
      (i) =>
        i.customerId === request.customerId &&
        i.metric === request.metric &&
        i.feedback !== null &&
        labels.includes(i.feedback.label),
    )
    .map(feedbackExclusion)
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
