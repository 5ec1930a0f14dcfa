import { DAY_MS, HOUR_MS, toIso } from '../domain/time.js'
import { DEMO_METRICS, type DemoMetric, type Rng, roundMetric, type SeriesValues } from './profiles.js'

export type AnomalyKind = 'spike' | 'drop_to_zero' | 'ramp' | 'level_shift' | 'shape_shift'

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'spike',
  'drop_to_zero',
  'ramp',
  'level_shift',
  'shape_shift',
]

/** Ground truth for one injected anomaly (snake_case: it is written out as JSON for evaluation). */
export interface AnomalyLabel {
  id: string
  customer_id: string
  metric: string
  kind: AnomalyKind
  /** ISO 8601 UTC, inclusive. */
  start: string
  /** ISO 8601 UTC, exclusive. */
  end: string
  /**
   * The multiplier applied to the metric: spike/ramp (final)/level_shift factor, 0 for drop_to_zero.
   * shape_shift keeps volume unchanged, so there it is the number of hours the daily profile is rotated by.
   */
  magnitude: number
  description: string
}

export interface PlannedAnomaly {
  metric: DemoMetric
  kind: AnomalyKind
  startMs: number
  /** End of the labelled window (exclusive). */
  labelEndMs: number
  /** Where values return to normal (exclusive); later than labelEndMs for ramps and level shifts. */
  effectEndMs: number
  magnitude: number
}

/** The earliest hour a random anomaly may start: second half of the range and 8 days of customer history. */
export function earliestAnomalyStart(rangeStartMs: number, endMs: number, firstHourMs: number): number {
  const half = rangeStartMs + (endMs - rangeStartMs) / 2
  return Math.ceil(Math.max(half, firstHourMs + 8 * DAY_MS) / HOUR_MS) * HOUR_MS
}

/** A uniformly chosen hour start in [lo, hi], or null when the window cannot fit. */
function placeHour(rng: Rng, lo: number, hi: number): number | null {
  if (hi < lo) return null
  return lo + rng.int(0, Math.floor((hi - lo) / HOUR_MS)) * HOUR_MS
}

const round2 = (v: number) => Math.round(v * 100) / 100

/** Returns null when the range is too short for the drawn anomaly: no half-placed anomalies, no unlabelled ones. */
export function planRandomAnomaly(
  rng: Rng,
  rangeStartMs: number,
  endMs: number,
  firstHourMs: number,
): PlannedAnomaly | null {
  const earliest = earliestAnomalyStart(rangeStartMs, endMs, firstHourMs)
  const kind = rng.pick(ANOMALY_KINDS)
  // A gauge has no daily activity profile to redistribute.
  const metric = kind === 'shape_shift' ? rng.pick(DEMO_METRICS.slice(0, 3)) : rng.pick(DEMO_METRICS)
  switch (kind) {
    case 'spike':
    case 'drop_to_zero': {
      const hours = kind === 'spike' ? rng.int(2, 12) : rng.int(6, 48)
      const magnitude = kind === 'spike' ? round2(rng.between(3, 8)) : 0
      const start = placeHour(rng, earliest, endMs - hours * HOUR_MS)
      if (start === null) return null
      const end = start + hours * HOUR_MS
      return { metric, kind, startMs: start, labelEndMs: end, effectEndMs: end, magnitude }
    }
    case 'ramp': {
      const climbHours = rng.int(2 * 24, 5 * 24)
      const magnitude = round2(rng.between(2, 4))
      const holdHours = rng.chance(0.5) ? null : rng.int(12, 72)
      const start = placeHour(rng, earliest, endMs - climbHours * HOUR_MS)
      if (start === null) return null
      const labelEndMs = start + climbHours * HOUR_MS
      const effectEndMs = holdHours === null ? endMs : Math.min(endMs, labelEndMs + holdHours * HOUR_MS)
      return { metric, kind, startMs: start, labelEndMs, effectEndMs, magnitude }
    }
    case 'level_shift': {
      const magnitude = round2(rng.chance(0.5) ? rng.between(2, 3) : rng.between(0.3, 0.5))
      const start = placeHour(rng, earliest, endMs - DAY_MS)
      if (start === null) return null
      return { metric, kind, startMs: start, labelEndMs: start + DAY_MS, effectEndMs: endMs, magnitude }
    }
    case 'shape_shift': {
      // Whole UTC days, because shape detection compares UTC days' 24-hour vectors.
      const days = rng.int(1, 3)
      const rotateHours = rng.int(6, 18)
      const firstDay = Math.ceil(earliest / DAY_MS) * DAY_MS
      const lastDay = Math.floor((endMs - days * DAY_MS) / DAY_MS) * DAY_MS
      if (lastDay < firstDay) return null
      const start = firstDay + rng.int(0, (lastDay - firstDay) / DAY_MS) * DAY_MS
      const end = start + days * DAY_MS
      return { metric, kind, startMs: start, labelEndMs: end, effectEndMs: end, magnitude: rotateHours }
    }
  }
}

/** Moves the activity of hour h to hour h + hours (mod 24): a permutation, so the day's total is unchanged. */
export function rotateDay(values: ArrayLike<number>, hours: number): number[] {
  const n = values.length
  const out = new Array<number>(n).fill(0)
  const shift = ((hours % n) + n) % n
  for (let h = 0; h < n; h++) out[(h + shift) % n] = values[h] ?? 0
  return out
}

/** Applies the anomaly in place to its one metric; correlated metrics are left alone so every change is labelled. */
export function applyAnomaly(values: SeriesValues, anomaly: PlannedAnomaly, firstHourMs: number): void {
  const series = values[anomaly.metric]
  const index = (ms: number) => Math.min(series.length, Math.max(0, (ms - firstHourMs) / HOUR_MS))
  const from = index(anomaly.startMs)
  const labelEnd = index(anomaly.labelEndMs)
  const to = index(anomaly.effectEndMs)
  const m = anomaly.magnitude
  const scale = (i: number, factor: number) => {
    series[i] = roundMetric(anomaly.metric, (series[i] ?? 0) * factor)
  }
  switch (anomaly.kind) {
    case 'spike':
    case 'level_shift':
      for (let i = from; i < to; i++) scale(i, m)
      return
    case 'drop_to_zero':
      series.fill(0, from, to)
      return
    case 'ramp': {
      // Geometric climb: each hour multiplies by the same step, reaching m at the label's last hour.
      const climb = labelEnd - from
      for (let i = from; i < to; i++) scale(i, i < labelEnd ? m ** ((i - from + 1) / climb) : m)
      return
    }
    case 'shape_shift':
      for (let d = from; d + 24 <= labelEnd; d += 24) series.set(rotateDay(series.subarray(d, d + 24), m), d)
      return
  }
}

/**
 * The factor an anomaly still applies to its metric after the end of the data: a level shift, or a ramp that holds
 * "until the end of the data", is a new normal that carries on (ending it there would plant an unlabelled change);
 * every other kind has ended by then. 1 when nothing carries on.
 */
export function factorAfterEnd(anomaly: PlannedAnomaly, endMs: number): number {
  const persists = anomaly.kind === 'level_shift' || anomaly.kind === 'ramp'
  return persists && anomaly.effectEndMs >= endMs ? anomaly.magnitude : 1
}

function describe(a: PlannedAnomaly, endMs: number): string {
  const hours = (a.labelEndMs - a.startMs) / HOUR_MS
  switch (a.kind) {
    case 'spike':
      return `${a.metric} x${a.magnitude} for ${hours} h`
    case 'drop_to_zero':
      return `${a.metric} drops to 0 for ${hours} h`
    case 'ramp': {
      const after =
        a.effectEndMs >= endMs
          ? 'stays there until the end of the data'
          : `holds ${(a.effectEndMs - a.labelEndMs) / HOUR_MS} h, then returns to normal`
      return `${a.metric} climbs gradually to x${a.magnitude} over ${hours} h (the label), then ${after}`
    }
    case 'level_shift':
      return `${a.metric} shifts to x${a.magnitude} until the end of the data (label: the first 24 h)`
    case 'shape_shift':
      return `${a.metric} daily profile rotated by ${a.magnitude} h for ${hours / 24} day(s); daily totals unchanged`
  }
}

export function toLabel(seed: number, customerId: string, a: PlannedAnomaly, endMs: number): AnomalyLabel {
  return {
    id: `demo-${seed}-${customerId}-${a.metric}-${a.kind}`,
    customer_id: customerId,
    metric: a.metric,
    kind: a.kind,
    start: toIso(a.startMs),
    end: toIso(a.labelEndMs),
    magnitude: a.magnitude,
    description: describe(a, endMs),
  }
}
