// Scoring of detector alerts against labelled anomaly windows, following the NAB scoring rules stated in
// /work/shared/nab/README.md, plus plain operational metrics.
//
// Interpretations (where the README leaves room, or where the product differs from NAB):
// - Alert placement: the product works in hourly slots while NAB rows may be every 5 minutes, so an alert at
//   time `a` is placed at the first row whose timestamp >= a (the first row the detector could have
//   flagged). An alert after the last row is dropped. Alerts placed on the same row count once.
// - Probation: the first `min(floor(0.15 * rows), 750)` rows (rows = cleaned rows of the series) are not
//   scored: alerts placed there are ignored entirely (neither TP nor FP). Windows are NOT removed: a window
//   overlapping (or even lying inside) the probation period still counts in S, S_null and S_perfect, and
//   can be detected by an alert placed after probation but inside the window.
// - Window rows: a window [start, end] covers rows from the first row >= start to the last row <= end
//   (`left`..`right`), width = right - left + 1 rows. A window covering no row (possible with irregular
//   steps) can never be detected: it costs -fn, and it is never the "previous window" of a false positive.
//   Windows are taken in start order; if windows overlapped, a row belongs to the first one containing it.
// - True positive: only the first alert row inside a window counts, worth
//   tp * (2 sigmoid(-5y) - 1) / (2 sigmoid(5) - 1) with y = -(right - i + 1) / width: exactly tp at the
//   window's first row, decreasing to tp * (2 sigmoid(5/width) - 1) / (2 sigmoid(5) - 1) at its last row.
//   Later alerts in the same window add nothing (they are not false positives either).
// - False positive: an alert row i outside every window adds fp * (2 sigmoid(-5y) - 1), y = (i - right) /
//   (width - 1) of the latest window ending before i. For y > 0 this is negative, close to 0 just after the
//   window and approaching -fp further away. It adds exactly -fp when no (non-empty) window ends before i,
//   or when y > 3. A previous window of width 1 (division by zero in NAB) is treated as y = Infinity: -fp.
// - Normalised score = 100 * (S - S_null) / (S_perfect - S_null), S_null = -fn * windows,
//   S_perfect = tp * windows over all series (all windows, empty ones included). With no window at all the
//   normalised score is undefined: NaN.

export interface ScoringProfile {
  name: 'standard' | 'reward_low_fp' | 'reward_low_fn'
  tp: number
  fp: number
  fn: number
}

export const PROFILES: Record<ScoringProfile['name'], ScoringProfile> = {
  standard: { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  reward_low_fp: { name: 'reward_low_fp', tp: 1, fp: 0.22, fn: 1 },
  reward_low_fn: { name: 'reward_low_fn', tp: 1, fp: 0.11, fn: 2 },
}

export interface SeriesAlerts {
  key: string
  /** Row timestamps, epoch ms, strictly increasing. */
  timestamps: number[]
  /** Inclusive [start, end] bounds, epoch ms. */
  windows: [number, number][]
  /** Times (epoch ms) at which the detector raised an alert (an incident opened); any order. */
  alerts: number[]
}

export interface SeriesScore {
  key: string
  raw: number
  windows: number
  /** Windows whose first scored alert row lies inside them. */
  detected: number
  /** Scored alert rows outside every window. */
  falsePositives: number
}

export interface NabScore {
  profile: string
  raw: number
  nullScore: number
  perfectScore: number
  normalized: number
  perSeries: SeriesScore[]
}

export interface DetectionStats {
  windows: number
  detected: number
  falseAlarms: number
  seriesWeeks: number
  falseAlarmsPerSeriesWeek: number
  meanDelayMs: number | null
}

const WEEK_MS = 7 * 24 * 3600 * 1000

/** Number of leading rows NAB does not score. */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750)
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x))
}

/** NAB's scaled sigmoid: 2 sigmoid(-5y) - 1, and -1 when y > 3. */
function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 * sigmoid(-5 * y) - 1
}

/** First index i with sorted[i] >= x (sorted.length when none). */
function lowerBound(sorted: number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index i with sorted[i] > x (sorted.length when none). */
function upperBound(sorted: number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function checkTimestamps(s: SeriesAlerts): void {
  for (let i = 1; i < s.timestamps.length; i++) {
    if ((s.timestamps[i] as number) <= (s.timestamps[i - 1] as number)) {
      throw new Error(`${s.key}: timestamps are not strictly increasing at row ${i}`)
    }
  }
}

interface RowWindow {
  left: number
  right: number
}

/** Windows as row ranges, in start order; an empty window has right < left. */
function rowWindows(s: SeriesAlerts): RowWindow[] {
  return [...s.windows]
    .sort((a, b) => a[0] - b[0])
    .map(([start, end]) => ({
      left: lowerBound(s.timestamps, start),
      right: upperBound(s.timestamps, end) - 1,
    }))
}

/** Distinct scored alert rows (placed at the first row >= alert time, probation and overflow removed), ascending. */
function scoredAlertRows(s: SeriesAlerts): number[] {
  const n = s.timestamps.length
  const probation = probationRows(n)
  const rows = new Set<number>()
  for (const a of s.alerts) {
    const row = lowerBound(s.timestamps, a)
    if (row < n && row >= probation) rows.add(row)
  }
  return [...rows].sort((a, b) => a - b)
}

function scoreSeries(s: SeriesAlerts, profile: ScoringProfile): SeriesScore {
  checkTimestamps(s)
  const windows = rowWindows(s)
  const tpScores: (number | null)[] = windows.map(() => null)
  const maxTp = scaledSigmoid(-1)
  let fpTotal = 0
  let falsePositives = 0
  for (const i of scoredAlertRows(s)) {
    const w = windows.findIndex((win) => win.left <= i && i <= win.right)
    const win = windows[w]
    if (win !== undefined) {
      if (tpScores[w] === null) {
        const width = win.right - win.left + 1
        const y = -(win.right - i + 1) / width
        tpScores[w] = (profile.tp * scaledSigmoid(y)) / maxTp
      }
      continue
    }
    falsePositives++
    let prev: RowWindow | undefined
    for (const candidate of windows) {
      if (
        candidate.right >= candidate.left &&
        candidate.right < i &&
        (!prev || candidate.right > prev.right)
      ) {
        prev = candidate
      }
    }
    if (prev === undefined) {
      fpTotal -= profile.fp
    } else {
      const width = prev.right - prev.left + 1
      const y = width > 1 ? (i - prev.right) / (width - 1) : Number.POSITIVE_INFINITY
      fpTotal += profile.fp * scaledSigmoid(y)
    }
  }
  const windowTotal = tpScores.reduce<number>((sum, v) => sum + (v ?? -profile.fn), 0)
  return {
    key: s.key,
    raw: windowTotal + fpTotal,
    windows: windows.length,
    detected: tpScores.filter((v) => v !== null).length,
    falsePositives,
  }
}

/** NAB score of the given alerts over all series, with one weighting profile. */
export function nabScore(series: SeriesAlerts[], profile: ScoringProfile): NabScore {
  const perSeries = series.map((s) => scoreSeries(s, profile))
  const raw = perSeries.reduce((sum, s) => sum + s.raw, 0)
  const windows = perSeries.reduce((sum, s) => sum + s.windows, 0)
  const nullScore = -profile.fn * windows
  const perfectScore = profile.tp * windows
  const normalized = windows === 0 ? Number.NaN : (100 * (raw - nullScore)) / (perfectScore - nullScore)
  return { profile: profile.name, raw, nullScore, perfectScore, normalized, perSeries }
}

/**
 * Plain operational metrics, on alert TIMES (not rows), over the same scored span as nabScore: alerts whose
 * row placement falls in probation or after the last row are ignored for every metric below.
 * - detected: windows with at least one alert time within [start, end] (inclusive);
 * - falseAlarms: distinct alert times within no window;
 * - meanDelayMs: mean over detected windows of (first alert time in the window - window start), null when none;
 * - seriesWeeks: sum over series of (last timestamp - first scored timestamp) / 7 days, i.e. the series span
 *   minus the probation span; falseAlarmsPerSeriesWeek = falseAlarms / seriesWeeks (0 when seriesWeeks is 0).
 */
export function detectionStats(series: SeriesAlerts[]): DetectionStats {
  let windows = 0
  let detected = 0
  let falseAlarms = 0
  let seriesWeeks = 0
  let delaySum = 0
  for (const s of series) {
    checkTimestamps(s)
    windows += s.windows.length
    const n = s.timestamps.length
    if (n === 0) continue
    const probation = probationRows(n)
    const firstScored = s.timestamps[Math.min(probation, n - 1)] as number
    seriesWeeks += ((s.timestamps[n - 1] as number) - firstScored) / WEEK_MS
    const alerts = [...new Set(s.alerts)]
      .filter((a) => {
        const row = lowerBound(s.timestamps, a)
        return row < n && row >= probation
      })
      .sort((a, b) => a - b)
    for (const [start, end] of s.windows) {
      const first = alerts[lowerBound(alerts, start)]
      if (first !== undefined && first <= end) {
        detected++
        delaySum += first - start
      }
    }
    falseAlarms += alerts.filter((a) => !s.windows.some(([start, end]) => start <= a && a <= end)).length
  }
  return {
    windows,
    detected,
    falseAlarms,
    seriesWeeks,
    falseAlarmsPerSeriesWeek: seriesWeeks > 0 ? falseAlarms / seriesWeeks : 0,
    meanDelayMs: detected > 0 ? delaySum / detected : null,
  }
}
