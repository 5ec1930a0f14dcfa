export type Severity = 'warning' | 'critical'
export type Direction = 'spike' | 'drop'
export type CheckStatus = 'ok' | 'insufficient_data'

export interface VolumeOptions {
  /** |z| at or above this is an anomaly (the seed's 3). */
  threshold: number
  /** |z| at or above this is critical (default 5). */
  criticalThreshold: number
  /** Fewer baseline samples than this give no verdict. */
  minSamples: number
  /** The stddev used for z is at least this fraction of |mean|: a flat baseline must not make every wiggle infinite. */
  minRelativeStddev: number
  /** ...and at least this many units, for a baseline that is flat at zero. */
  minAbsoluteStddev: number
}

export const DEFAULT_VOLUME_OPTIONS: VolumeOptions = {
  threshold: 3,
  criticalThreshold: 5,
  minSamples: 7,
  minRelativeStddev: 0.01,
  minAbsoluteStddev: 1,
}

export interface BaselineStats {
  mean: number
  /** Population standard deviation of the samples, as measured. */
  stddev: number
  /** The stddev actually used for z (after the floor). */
  effectiveStddev: number
  samples: number
}

export interface VolumeVerdict {
  status: CheckStatus
  isAnomaly: boolean
  currentValue: number
  baseline: BaselineStats
  zScore: number | null
  severity: Severity | null
  direction: Direction | null
}

/**
 * A series' values or baseline samples: plain arrays, or views of one typed array holding a whole chunk of the job's
 * series (the store's job read, see series-windows.ts). Read-only either way.
 */
export type SeriesValues = readonly number[] | Float64Array

/**
 * Mean and population stddev. Values are scaled by their largest magnitude first so that squares of
 * huge values (1e200 and up) do not overflow to Infinity.
 */
export function baselineStats(samples: SeriesValues, options: VolumeOptions): BaselineStats {
  const n = samples.length
  if (n === 0) return { mean: 0, stddev: 0, effectiveStddev: flooredStddev(0, 0, options), samples: 0 }
  let scale = 0
  // Indexed loops: the samples may be a typed array's view, whose iterator is slower than an index.
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(samples[i] as number))
  if (scale === 0) scale = 1
  // Each sample is divided once and kept for the second pass (the same quotients: the same result bits).
  const scaled = scratchOf(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    const q = (samples[i] as number) / scale
    scaled[i] = q
    sum += q
  }
  const scaledMean = sum / n
  let squares = 0
  for (let i = 0; i < n; i++) {
    const d = (scaled[i] as number) - scaledMean
    squares += d * d
  }
  const mean = scaledMean * scale
  const stddev = Math.sqrt(squares / n) * scale
  const effectiveStddev = flooredStddev(mean, stddev, options)
  return { mean, stddev, effectiveStddev, samples: n }
}

/** Scratch space for baselineStats, reused across calls (the job calls it for every series and window). */
let scratch = new Float64Array(1024)
function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2))
  return scratch
}

function flooredStddev(mean: number, stddev: number, options: VolumeOptions): number {
  return Math.max(stddev, options.minRelativeStddev * Math.abs(mean), options.minAbsoluteStddev)
}

/** The seed's volume check: z-score of the current value against the baseline samples. */
export function volumeVerdict(current: number, samples: SeriesValues, options: VolumeOptions): VolumeVerdict {
  return verdictFromStats(current, baselineStats(samples, options), options)
}

/**
 * The verdict from baseline statistics computed elsewhere (the batched job has the engine compute mean and
 * stddev for every customer at once); the floor is applied here so both paths judge alike.
 */
export function verdictFromStats(
  current: number,
  stats: { mean: number; stddev: number; samples: number },
  options: VolumeOptions,
): VolumeVerdict {
  const baseline: BaselineStats = {
    ...stats,
    effectiveStddev: flooredStddev(stats.mean, stats.stddev, options),
  }
  if (baseline.samples < options.minSamples) {
    return {
      status: 'insufficient_data',
      isAnomaly: false,
      currentValue: current,
      baseline,
      zScore: null,
      severity: null,
      direction: null,
    }
  }
  const difference = current - baseline.mean
  // For values near Number.MAX_VALUE the difference itself can overflow; dividing first keeps z finite.
  const zScore = Number.isFinite(difference)
    ? difference / baseline.effectiveStddev
    : current / baseline.effectiveStddev - baseline.mean / baseline.effectiveStddev
  const isAnomaly = Math.abs(zScore) >= options.threshold
  const direction: Direction | null = zScore > 0 ? 'spike' : zScore < 0 ? 'drop' : null
  let severity: Severity | null = null
  if (isAnomaly) {
    const droppedToZero = current === 0 && baseline.mean > 0
    severity = Math.abs(zScore) >= options.criticalThreshold || droppedToZero ? 'critical' : 'warning'
  }
  return { status: 'ok', isAnomaly, currentValue: current, baseline, zScore, severity, direction }
}
