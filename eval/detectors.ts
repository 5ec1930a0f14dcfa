import { loadConfig } from '../src/config.js'
import { type DetectorConfig, SEED_DETECTOR } from '../src/domain/detector.js'
import type { ShapeConfig } from '../src/domain/signals/shape/shape-settings.js'

/** A detector plus the global detection settings it is run with. */
export interface EvalConfiguration {
  detector: DetectorConfig
  detection?: {
    threshold?: number
    criticalThreshold?: number
    minRelativeStddev?: number
    excludeFeedback?: 'planned' | 'all'
    /** The shape signal (off unless given); absent settings take the product's defaults. */
    shape?: Partial<ShapeConfig> & { enabled: boolean }
  }
  /**
   * Simulated operator feedback: every incident that opens outside the series' labelled windows is marked
   * false_positive right away (the operator knows; the detector only sees the mark, never the labels).
   */
  feedback?: boolean
}

/**
 * The seed's global settings (threshold 3, stddev floor 1% of the mean), pinned here: the product's defaults
 * moved on (src/config.ts), and a configuration must mean the same thing in every round.
 */
const SEED_SETTINGS = { threshold: 3, minRelativeStddev: 0.01 }

/** The largest volume threshold the config accepts (limits.ts): a z-score this large does not occur in the data. */
export const VOLUME_NEVER = 1_000_000

const seed = (
  detector: Partial<DetectorConfig>,
  detection?: EvalConfiguration['detection'],
): EvalConfiguration => ({
  detector: { ...SEED_DETECTOR, ...detector },
  detection: { ...SEED_SETTINGS, ...detection },
})

/**
 * The product's default as it is now: the detector and global settings a config without any detection setting
 * gets (src/config.ts, detector-settings.ts), shape included. Derived, so that flipping a default moves this row.
 */
function productDefault(): EvalConfiguration {
  const { detection } = loadConfig({})
  const { threshold, criticalThreshold, minRelativeStddev } = detection
  return { detector: detection.detector, detection: { threshold, criticalThreshold, minRelativeStddev } }
}

/** The configurations the evaluation compares; the first is the reference (the seed's plain z-score). */
export const EVAL_DETECTORS: Record<string, EvalConfiguration> = {
  default: productDefault(),
  seed: seed({}),
  robust: seed({ statistic: 'robust' }),
  daytype: seed({ baseline: 'daytype' }),
  'robust+daytype': seed({ statistic: 'robust', baseline: 'daytype' }),
  'robust+daytype+hour': seed({ statistic: 'robust', baseline: 'daytype', windows: ['day', 'hour'] }),
  'robust+daytype+levelshift': seed({ statistic: 'robust', baseline: 'daytype', levelShiftDays: 3 }),
  'seed+floor5': seed({}, { minRelativeStddev: 0.05 }),
  'seed+floor10': seed({}, { minRelativeStddev: 0.1 }),
  'daytype+floor10': seed({ baseline: 'daytype' }, { minRelativeStddev: 0.1 }),
  'robust+daytype+floor10': seed({ statistic: 'robust', baseline: 'daytype' }, { minRelativeStddev: 0.1 }),
  'robust+daytype+levelshift+floor10': seed(
    { statistic: 'robust', baseline: 'daytype', levelShiftDays: 3 },
    { minRelativeStddev: 0.1 },
  ),
  'auto+floor10': seed({ baseline: 'auto' }, { minRelativeStddev: 0.1 }),
  'auto+floor10+t2.5': seed({ baseline: 'auto' }, { minRelativeStddev: 0.1, threshold: 2.5 }),
  // MeterFlow's default (src/config.ts), chosen from these results: see docs/detection.md.
  'auto+floor5': seed({ baseline: 'auto' }, { minRelativeStddev: 0.05 }),
  'auto+floor5+persist2of3': seed(
    { baseline: 'auto', persistRuns: 2, persistWindow: 3 },
    { minRelativeStddev: 0.05 },
  ),
  // Operator feedback with false positives left out of baselines (the product's default keeps them in: this is why).
  'auto+floor5+feedback-exclude-fp': {
    ...seed({ baseline: 'auto' }, { minRelativeStddev: 0.05, excludeFeedback: 'all' }),
    feedback: true,
  },
  // Issue 11, item 6: shape beside the default's volume detector, alone and combined (SHAPE_COMPARISON below).
  'auto+floor5+shape': seed({ baseline: 'auto' }, { minRelativeStddev: 0.05, shape: { enabled: true } }),
  // Volume cannot be switched off in the job: at the largest threshold the config accepts it never fires (asserted
  // by the replay: no incident of this configuration may be opened by volume).
  'shape-only': seed(
    { baseline: 'auto' },
    {
      minRelativeStddev: 0.05,
      threshold: VOLUME_NEVER,
      criticalThreshold: VOLUME_NEVER,
      shape: { enabled: true },
    },
  ),
  // Issue 13: the hour window at higher global thresholds (existing settings only; the threshold applies to both windows).
  'auto+floor5+hour': seed({ baseline: 'auto', windows: ['day', 'hour'] }, { minRelativeStddev: 0.05 }),
  'auto+floor5+hour+t5': seed(
    { baseline: 'auto', windows: ['day', 'hour'] },
    { minRelativeStddev: 0.05, threshold: 5 },
  ),
  'auto+floor10+hour+t4': seed(
    { baseline: 'auto', windows: ['day', 'hour'] },
    { minRelativeStddev: 0.1, threshold: 4 },
  ),
  'auto+floor10+hour+t6': seed(
    { baseline: 'auto', windows: ['day', 'hour'] },
    { minRelativeStddev: 0.1, threshold: 6, criticalThreshold: 8 },
  ),
  // Issue 13: a threshold per series and window (`calibration`: |z| must also reach factor x the baseline samples'
  // second largest |z|), on the day window alone and with the hour window; robust statistics with it.
  'auto+floor5+cal1': seed({ baseline: 'auto', calibration: 1 }, { minRelativeStddev: 0.05 }),
  'auto+floor5+hour+cal1': seed(
    { baseline: 'auto', windows: ['day', 'hour'], calibration: 1 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour+cal1.5': seed(
    { baseline: 'auto', windows: ['day', 'hour'], calibration: 1.5 },
    { minRelativeStddev: 0.05 },
  ),
  'robust+auto+floor5+hour+cal1': seed(
    { statistic: 'robust', baseline: 'auto', windows: ['day', 'hour'], calibration: 1 },
    { minRelativeStddev: 0.05 },
  ),
  // The hour window with persistence (an hourly blip must repeat; a sharp sustained change does) and a stronger
  // calibration (a rank among 30 samples alone cannot bring an hourly false-alarm rate below ~1/31 per hour).
  'auto+floor5+hour+cal2.5': seed(
    { baseline: 'auto', windows: ['day', 'hour'], calibration: 2.5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour+persist2of3': seed(
    { baseline: 'auto', windows: ['day', 'hour'], persistRuns: 2, persistWindow: 3 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour+persist3of3': seed(
    { baseline: 'auto', windows: ['day', 'hour'], persistRuns: 3, persistWindow: 3 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour+t4+persist2of3': seed(
    { baseline: 'auto', windows: ['day', 'hour'], persistRuns: 2, persistWindow: 3 },
    { minRelativeStddev: 0.05, threshold: 4 },
  ),
  'auto+floor10+hour+t4+persist2of3': seed(
    { baseline: 'auto', windows: ['day', 'hour'], persistRuns: 2, persistWindow: 3 },
    { minRelativeStddev: 0.1, threshold: 4 },
  ),
  // The hour window with its own threshold (`hourThreshold`): the day window stays at the global 3.
  'auto+floor5+hour5': seed(
    { baseline: 'auto', windows: ['day', 'hour'], hourThreshold: 5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour6': seed(
    { baseline: 'auto', windows: ['day', 'hour'], hourThreshold: 6 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour8': seed(
    { baseline: 'auto', windows: ['day', 'hour'], hourThreshold: 8 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+hour6+persist2of3': seed(
    { baseline: 'auto', windows: ['day', 'hour'], hourThreshold: 6, persistRuns: 2, persistWindow: 3 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor10+hour6': seed(
    { baseline: 'auto', windows: ['day', 'hour'], hourThreshold: 6 },
    { minRelativeStddev: 0.1 },
  ),
  // Round 4: the recent window (the last hour against the 168 hours before it), from a series' second day.
  'auto+floor5+recent4': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent6': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 6 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5.5': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5.5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+72h': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, recentHours: 72 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+336h': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, recentHours: 336 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent6+336h': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 6, recentHours: 336 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+cal1': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, calibration: 1 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+cal1.5': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, calibration: 1.5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+cal1.25': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, calibration: 1.25 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4+cal1.5': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4, calibration: 1.5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+cal2': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, calibration: 2 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4+cal1': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4, calibration: 1 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4+cal1.25': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4, calibration: 1.25 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4.5+cal1': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4.5, calibration: 1 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4.5+cal1.25': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4.5, calibration: 1.25 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4+cal1.4': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4, calibration: 1.4 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4.5+cal1.4': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4.5, calibration: 1.4 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent4.5+cal1.5': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 4.5, calibration: 1.5 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor5+recent5+cal1.4': seed(
    { baseline: 'auto', windows: ['day', 'recent'], recentThreshold: 5, calibration: 1.4 },
    { minRelativeStddev: 0.05 },
  ),
  'auto+floor10+hour6+recent5': seed(
    { baseline: 'auto', windows: ['day', 'hour', 'recent'], hourThreshold: 6, recentThreshold: 5 },
    { minRelativeStddev: 0.1 },
  ),
  'auto+levelshift+floor10': seed({ baseline: 'auto', levelShiftDays: 3 }, { minRelativeStddev: 0.1 }),
  'robust+daytype+hour+levelshift+floor10': seed(
    { statistic: 'robust', baseline: 'daytype', windows: ['day', 'hour'], levelShiftDays: 3 },
    { minRelativeStddev: 0.1 },
  ),
}

/**
 * Issue 13's side-by-side comparison: the seed's method, the default before issue 13 (pinned: auto baseline, 5%
 * floor, day window) and the product's default now.
 */
export const DEFAULT_COMPARISON = [
  { label: 'seed', detector: 'seed' },
  { label: 'old default', detector: 'auto+floor5' },
  { label: 'new default', detector: 'default' },
] as const

/**
 * The side-by-side comparison of issue 11, item 6: volume only (the product's default then, pinned), shape only,
 * combined.
 */
export const SHAPE_COMPARISON = [
  { label: 'volume-only', detector: 'auto+floor5' },
  { label: 'shape-only', detector: 'shape-only' },
  { label: 'combined', detector: 'auto+floor5+shape' },
] as const

/** What `npm run eval` replays without `--detectors`: both comparisons (`--detectors all`: every configuration). */
export const DEFAULT_EVAL_DETECTORS = [
  ...new Set([...DEFAULT_COMPARISON, ...SHAPE_COMPARISON].map((c) => c.detector)),
]
