import type { DetectorConfig } from './detector-settings.js'
import type { TimeRange } from './incident.js'
import { RECENT_MIN_HOURS, recentSamples } from './recent-window.js'
import { DAY_MS, HOUR_MS, isUtcWeekend, overlapsAny } from './time.js'
import {
  baselineStats,
  type SeriesValues,
  type VolumeOptions,
  type VolumeVerdict,
  verdictFromStats,
} from './volume.js'

// The settings themselves (names, values, meaning) are declared in detector-settings.ts.
export type { DetectorConfig }

export const SEED_DETECTOR: DetectorConfig = {
  statistic: 'zscore',
  baseline: 'all',
  windows: ['day'],
  levelShiftDays: 0,
  minVolume: 0,
  hourThreshold: 0,
  recentHours: 168,
  recentThreshold: 0,
  calibration: 0,
  persistRuns: 1,
  persistWindow: 1,
}

/** One series' per-day history for a slot S: index 0 is the current window, index k the window k days back. */
export interface SeriesHistory {
  slot: number
  /** Start of the series' first hour; windows starting before it are not samples. */
  firstHourMs: number
  /** The metric's aggregate over [S - 24 h - k days, S - k days). */
  daily: SeriesValues
  /** The aggregate over the hour [S - 1 h - k days, S - k days). */
  hourly: SeriesValues
  /**
   * The hours before the current one, newest first: index j - 1 is the hour [S - (j + 1) h, S - j h). Present when a
   * detector uses the `recent` window (the store reads them only then); hours before the first are not samples.
   */
  recent?: SeriesValues
  /** Periods people labelled as false positive or planned: windows overlapping them are not baseline samples. */
  excluded?: readonly TimeRange[]
}

/**
 * Which window a verdict judged: the day or the hour against previous days, or the hour against recent hours. The
 * `windows` setting declares them (and the volume signal's window_kind field takes the same words).
 */
export type WindowKind = DetectorConfig['windows'][number]

export interface Detection {
  verdict: VolumeVerdict
  window: WindowKind
  windowStart: number
  windowEnd: number
  /** With `calibration` on: the |z| this window needed (at least the global threshold). */
  calibratedThreshold?: number
}

const MAD_TO_STDDEV = 1.4826

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Median and scaled median absolute deviation, in the shape the verdict takes (mean, stddev). */
export function robustStats(samples: SeriesValues): { mean: number; stddev: number; samples: number } {
  if (samples.length === 0) return { mean: 0, stddev: 0, samples: 0 }
  const center = median([...samples].sort((a, b) => a - b))
  const deviations = Array.from(samples, (v) => Math.abs(v - center)).sort((a, b) => a - b)
  return { mean: center, stddev: median(deviations) * MAD_TO_STDDEV, samples: samples.length }
}

/** A weekly pattern counts when weekend and weekday means differ by this many pooled standard deviations. */
const WEEKLY_PATTERN_SEPARATION = 3

/** Indices k >= 1 of the windows that are samples for this window kind and baseline choice. */
function sampleIndices(history: SeriesHistory, kind: 'day' | 'hour', config: DetectorConfig): number[] {
  const length = kind === 'day' ? DAY_MS : HOUR_MS
  const values = kind === 'day' ? history.daily : history.hourly
  const all: number[] = []
  const excluded = history.excluded ?? []
  for (let k = 1; k < values.length; k++) {
    const end = history.slot - k * DAY_MS
    if (end - length < history.firstHourMs) break
    if (excluded.length > 0 && overlapsAny(excluded, end - length, end)) continue
    all.push(k)
  }
  if (config.baseline === 'all') return all
  if (config.baseline === 'weekday') return all.filter(isWholeWeeks)
  // A window's calendar day: the day of its middle (a trailing 24 h window straddles two dates).
  const weekendNow = isUtcWeekend(history.slot - length / 2)
  const sameType: number[] = []
  const otherType: number[] = []
  for (const k of all)
    (isUtcWeekend(history.slot - k * DAY_MS - length / 2) === weekendNow ? sameType : otherType).push(k)
  if (config.baseline === 'daytype') return sameType
  return hasWeeklyPattern(values, sameType, otherType) ? sameType : all
}

const isWholeWeeks = (k: number): boolean => k % 7 === 0

/**
 * Whether two groups of days (weekend, weekday; given as indices into `values`) clearly differ: their means apart
 * by several pooled stddevs. Runs for every series of the job: plain loops, no arrays or closures per call.
 */
function hasWeeklyPattern(values: SeriesValues, a: readonly number[], b: readonly number[]): boolean {
  if (a.length < 2 || b.length < 2) return false
  const ma = meanAt(values, a)
  const mb = meanAt(values, b)
  const pooled = Math.sqrt(
    (varianceAt(values, a, ma) * a.length + varianceAt(values, b, mb) * b.length) / (a.length + b.length),
  )
  return (
    Math.abs(ma - mb) >
    WEEKLY_PATTERN_SEPARATION * Math.max(pooled, 1e-9 * Math.max(Math.abs(ma), Math.abs(mb)))
  )
}

/** The mean of values[k] over the indices, summed in their order. */
function meanAt(values: SeriesValues, indices: readonly number[]): number {
  let sum = 0
  for (const k of indices) sum += values[k] ?? 0
  return sum / indices.length
}

function varianceAt(values: SeriesValues, indices: readonly number[], mean: number): number {
  let sum = 0
  for (const k of indices) sum += ((values[k] ?? 0) - mean) ** 2
  return sum / indices.length
}

function statsOf(samples: SeriesValues, config: DetectorConfig, options: VolumeOptions) {
  return config.statistic === 'robust' ? robustStats(samples) : baselineStats(samples, options)
}

/**
 * The options a window is judged with: the hour and recent windows may have their own, higher bars
 * (`hourThreshold`, `recentThreshold`); the recent window needs at least a day of hours as samples. The threshold
 * in force (global or a customer's override) still holds when it is higher: raising a noisy customer's threshold
 * quiets every window; a lowered one makes the day window more sensitive, not the noisier short windows.
 */
export function windowOptions(
  kind: WindowKind,
  config: DetectorConfig,
  options: VolumeOptions,
): VolumeOptions {
  const own = kind === 'hour' ? config.hourThreshold : kind === 'recent' ? config.recentThreshold : 0
  const sized =
    kind === 'recent' ? { ...options, minSamples: Math.max(options.minSamples, RECENT_MIN_HOURS) } : options
  if (own <= 0) return sized
  const threshold = Math.max(options.threshold, own)
  return { ...sized, threshold, criticalThreshold: Math.max(options.criticalThreshold, threshold) }
}

/** The window's current value and its baseline samples (with their day offsets for the daily windows). */
function windowSamples(
  history: SeriesHistory,
  kind: WindowKind,
  config: DetectorConfig,
): { current: number; samples: SeriesValues; indices: number[] } {
  if (kind === 'recent') {
    return {
      current: history.hourly[0] ?? 0,
      samples: recentSamples(history, config.recentHours),
      indices: [],
    }
  }
  const values = kind === 'day' ? history.daily : history.hourly
  const indices = sampleIndices(history, kind, config)
  // Pushed, not preallocated: a preallocated array is holey, and the statistics' loops then run on two array kinds.
  const samples: number[] = []
  for (const k of indices) samples.push(values[k] ?? 0)
  return { current: values[0] ?? 0, samples, indices }
}

function judgeWindow(
  history: SeriesHistory,
  kind: WindowKind,
  config: DetectorConfig,
  globalOptions: VolumeOptions,
): Detection {
  const options = windowOptions(kind, config, globalOptions)
  const { current, samples, indices } = windowSamples(history, kind, config)
  let stats = statsOf(samples, config, options)
  let verdict = verdictFromStats(current, stats, options)
  const shiftDays = kind === 'day' ? config.levelShiftDays : 0
  if (verdict.isAnomaly && shiftDays > 0 && indices.length >= shiftDays + options.minSamples) {
    // The newest days, judged against the older baseline: all beyond the threshold on the current side means
    // the level moved days ago and has stayed. Judge the current window against that new level instead.
    const recent = Array.from(samples.slice(0, shiftDays))
    const older = statsOf(samples.slice(shiftDays), config, options)
    const side = Math.sign(verdict.zScore ?? 0)
    const shifted = recent.every((v) => {
      const z = verdictFromStats(v, older, options).zScore ?? 0
      return Math.sign(z) === side && Math.abs(z) >= options.threshold
    })
    if (shifted) {
      stats = {
        mean: recent.reduce((a, b) => a + b, 0) / recent.length,
        stddev: older.stddev,
        samples: older.samples,
      }
      verdict = verdictFromStats(current, stats, options)
    }
  }
  if (verdict.isAnomaly && Math.max(current, verdict.baseline.mean) < config.minVolume) {
    verdict = { ...verdict, isAnomaly: false, severity: null }
  }
  const windowEnd = history.slot
  const judged: Detection = {
    verdict,
    window: kind,
    windowStart: windowEnd - (kind === 'day' ? DAY_MS : HOUR_MS),
    windowEnd,
  }
  return config.calibration > 0 ? calibrated(judged, samples, config.calibration, options) : judged
}

/**
 * A threshold of the series' own: `factor` times the second largest |z| its baseline samples have against the
 * same baseline (the largest is left out: one past anomaly must not raise the bar for a month), never below the
 * global threshold. A noisy series needs a larger deviation than a smooth one to fire.
 */
export function calibratedThresholdOf(
  samples: SeriesValues,
  baseline: { mean: number; effectiveStddev: number },
  factor: number,
  threshold: number,
): number {
  if (samples.length < 2 || !(baseline.effectiveStddev > 0)) return threshold
  // The second largest distance from the mean, divided once: dividing by the same positive number keeps the order
  // (rounding included), so this is the second largest |z| to the bit, without a division per sample.
  let largest = 0
  let second = 0
  for (let i = 0; i < samples.length; i++) {
    const distance = Math.abs((samples[i] as number) - baseline.mean)
    if (distance > largest) {
      second = largest
      largest = distance
    } else if (distance > second) second = distance
  }
  const bar = factor * (second / baseline.effectiveStddev)
  return Number.isFinite(bar) ? Math.max(threshold, bar) : threshold
}

function calibrated(
  judged: Detection,
  samples: SeriesValues,
  factor: number,
  options: VolumeOptions,
): Detection {
  const { verdict } = judged
  if (verdict.status !== 'ok') return judged
  const needed = calibratedThresholdOf(samples, verdict.baseline, factor, options.threshold)
  // Usage stopping where the baseline never stopped is the outage billing engineers are paged for: a noisy
  // series' larger bar must not hide it. A series whose baseline has stopped before keeps its own bar.
  const firstStop = verdict.currentValue === 0 && verdict.baseline.mean > 0 && allPositive(samples)
  const stillAnomalous = verdict.isAnomaly && (firstStop || Math.abs(verdict.zScore ?? 0) >= needed)
  // Most verdicts are not anomalies: they stand as they are (no copy per series and window).
  const kept = stillAnomalous || !verdict.isAnomaly
  return {
    verdict: kept ? verdict : { ...verdict, isAnomaly: false, severity: null },
    window: judged.window,
    windowStart: judged.windowStart,
    windowEnd: judged.windowEnd,
    calibratedThreshold: needed,
  }
}

function allPositive(samples: SeriesValues): boolean {
  for (let i = 0; i < samples.length; i++) if (!((samples[i] as number) > 0)) return false
  return true
}

/**
 * Judges a series with a detector: every configured window, and the strongest anomaly among them wins (the
 * largest |z| relative to the threshold); without one, the day window's verdict stands.
 */
export function detect(history: SeriesHistory, config: DetectorConfig, options: VolumeOptions): Detection {
  return strongest(judgeWindows(history, config, options))
}

/** Every configured window's judgement, in the config's order (the dashboard plots one window's baseline). */
export function judgeWindows(
  history: SeriesHistory,
  config: DetectorConfig,
  options: VolumeOptions,
): Detection[] {
  return config.windows.map((kind) => judgeWindow(history, kind, config, options))
}

/** The verdict `detect` gives from the windows' judgements. */
export function strongest(results: readonly Detection[]): Detection {
  // Runs for every series of the job: loops, not filter/reduce/find closures. Ties keep the earlier window.
  let best: Detection | null = null
  for (const r of results) {
    if (
      r.verdict.isAnomaly &&
      (!best || Math.abs(r.verdict.zScore ?? 0) > Math.abs(best.verdict.zScore ?? 0))
    ) {
      best = r
    }
  }
  if (best) return best
  for (const r of results) if (r.window === 'day' && r.verdict.status === 'ok') return r
  for (const r of results) if (r.verdict.status === 'ok') return r
  return results[0] as Detection
}
