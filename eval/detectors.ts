import { type DetectorConfig, SEED_DETECTOR } from '../src/domain/detector.js'

/** The configurations the evaluation compares; the first is the reference (the seed's plain z-score). */
export const EVAL_DETECTORS: Record<string, DetectorConfig> = {
  seed: SEED_DETECTOR,
  robust: { ...SEED_DETECTOR, statistic: 'robust' },
  daytype: { ...SEED_DETECTOR, baseline: 'daytype' },
  'robust+daytype': { ...SEED_DETECTOR, statistic: 'robust', baseline: 'daytype' },
  'robust+daytype+hour': {
    ...SEED_DETECTOR,
    statistic: 'robust',
    baseline: 'daytype',
    windows: ['day', 'hour'],
  },
  'robust+daytype+levelshift': {
    ...SEED_DETECTOR,
    statistic: 'robust',
    baseline: 'daytype',
    levelShiftDays: 3,
  },
  'robust+daytype+hour+levelshift': {
    ...SEED_DETECTOR,
    statistic: 'robust',
    baseline: 'daytype',
    windows: ['day', 'hour'],
    levelShiftDays: 3,
  },
}
