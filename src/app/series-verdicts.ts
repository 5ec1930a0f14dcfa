import type { CustomerProfile } from '../domain/customer.js'
import type { Detection, DetectorConfig } from '../domain/detector.js'
import { judgeWindows, strongest } from '../domain/detector.js'
import { feedbackExclusion, type TimeRange } from '../domain/incident.js'
import type { MetricDefinition } from '../domain/metrics.js'
import { DAY_MS, HOUR_MS } from '../domain/time.js'
import type { VolumeOptions } from '../domain/volume.js'
import { isChecked, optionsFor } from './evaluate-range.js'
import type { DetectionDeps } from './run-detection.js'

export type SeriesDeps = Pick<
  DetectionDeps,
  'usage' | 'anomalies' | 'metrics' | 'clock' | 'volume' | 'detectorFor' | 'excludedLabels'
>

/** How the detection job judges one customer's metric: the settings a run uses for it today. */
export interface SeriesSettings {
  customerId: string
  definition: MetricDefinition
  /** The metric's detector with the customer's overrides over it. */
  detector: DetectorConfig
  /** The configured volume options with the customer's threshold overrides (before any window's own bar). */
  options: VolumeOptions
  baselineDays: number
  /** Whether the job checks this series (the customer is active and the metric among its metrics). */
  checked: boolean
  firstEventMs: number | null
}

/** One hourly slot S as a run judges it: every configured window, and the verdict a run stores (the strongest). */
export interface JudgedSlot {
  slot: number
  judged: Detection[]
  verdict: Detection
}

/** The settings the job judges `definition` of `customerId` with (the customer registry's overrides applied). */
export async function seriesSettings(
  deps: SeriesDeps,
  customerId: string,
  definition: MetricDefinition,
): Promise<SeriesSettings> {
  const profile: CustomerProfile | undefined = (await deps.anomalies.getCustomer(customerId)) ?? undefined
  const base = deps.detectorFor(definition.name)
  return {
    customerId,
    definition,
    detector: profile?.detector ? { ...base, ...profile.detector } : base,
    options: optionsFor(deps.volume, profile),
    baselineDays: deps.volume.baselineDays,
    checked: isChecked(profile, { metric: definition.name }),
    firstEventMs: await deps.usage.firstEventHour(customerId, definition.name),
  }
}

/**
 * The detector's judgement of every hourly slot from `first` to `last` (whole hours, inclusive), as a run for that
 * slot judges it: the domain's detector on the usage store's hourly rollup, with the series' settings and the
 * periods people labelled left out of the baselines (today's labels). One read of the hours all slots need.
 */
export async function judgeSlots(
  deps: SeriesDeps,
  settings: SeriesSettings,
  first: number,
  last: number,
): Promise<JudgedSlot[]> {
  if (last < first) return []
  const { definition, detector, options, baselineDays } = settings
  const recentHours = detector.windows.includes('recent') ? detector.recentHours : 0
  // Every hour any slot's windows read: from the oldest baseline day of the first slot to the last slot.
  const lo = first - Math.max((baselineDays + 1) * DAY_MS, (recentHours + 1) * HOUR_MS)
  // One read of every hour in [lo, last), newest first: the hour before `last` shifted back hour by hour.
  const { aggregates } = await deps.usage.windowHistory({
    customerId: settings.customerId,
    metric: definition.name,
    aggregation: definition.aggregation,
    window: { startMs: last - HOUR_MS, endMs: last },
    stepMs: HOUR_MS,
    count: (last - lo) / HOUR_MS - 1,
  })
  const at = (hourStart: number) => aggregates[(last - HOUR_MS - hourStart) / HOUR_MS]?.value ?? 0
  const combine =
    definition.aggregation === 'sum'
      ? (a: number, b: number) => a + b
      : (a: number, b: number) => Math.max(a, b)
  const windowValue = (end: number, length: number) => {
    let value = definition.aggregation === 'sum' ? 0 : Number.NEGATIVE_INFINITY
    for (let h = end - length; h < end; h += HOUR_MS) value = combine(value, at(h))
    return value
  }
  const excluded = await exclusions(deps, settings, lo)
  const firstHourMs = settings.firstEventMs ?? Number.POSITIVE_INFINITY
  const slots: JudgedSlot[] = []
  for (let slot = first; slot <= last; slot += HOUR_MS) {
    const daily: number[] = []
    const hourly: number[] = []
    for (let k = 0; k <= baselineDays; k++) {
      daily.push(windowValue(slot - k * DAY_MS, DAY_MS))
      hourly.push(at(slot - k * DAY_MS - HOUR_MS))
    }
    const recent = Array.from({ length: recentHours }, (_, j) => at(slot - (j + 2) * HOUR_MS))
    const judged = judgeWindows({ slot, firstHourMs, daily, hourly, recent, excluded }, detector, options)
    slots.push({ slot, judged, verdict: strongest(judged) })
  }
  return slots
}

/** Periods people labelled that the job leaves out of this series' baselines (as it would today). */
async function exclusions(deps: SeriesDeps, settings: SeriesSettings, since: number): Promise<TimeRange[]> {
  const labels = deps.excludedLabels ?? ['planned']
  return (await deps.anomalies.labelledIncidents(since))
    .filter(
      (i) =>
        i.customerId === settings.customerId &&
        i.metric === settings.definition.name &&
        i.feedback !== null &&
        labels.includes(i.feedback.label),
    )
    .map(feedbackExclusion)
}
