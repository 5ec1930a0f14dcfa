import { type DetectorConfig, SEED_DETECTOR } from '../src/domain/detector.js'

/** A detector plus the global detection settings it is run with. */
export interface EvalConfiguration {
  detector: DetectorConfig
  detection?: { threshold?: number; minRelativeStddev?: number; excludeFeedback?: 'planned' | 'all' }
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

const seed = (
  detector: Partial<DetectorConfig>,
  detection?: EvalConfiguration['detection'],
): EvalConfiguration => ({
  detector: { ...SEED_DETECTOR, ...detector },
  detection: { ...SEED_SETTINGS, ...detection },
})

/** The configurations the evaluation compares; the first is the reference (the seed's plain z-score). */
export const EVAL_DETECTORS: Record<string, EvalConfiguration> = {
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
  'auto+levelshift+floor10': seed({ baseline: 'auto', levelShiftDays: 3 }, { minRelativeStddev: 0.1 }),
  'robust+daytype+hour+levelshift+floor10': seed(
    { statistic: 'robust', baseline: 'daytype', windows: ['day', 'hour'], levelShiftDays: 3 },
    { minRelativeStddev: 0.1 },
  ),
}
