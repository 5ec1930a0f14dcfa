import { type SettingDeclaration, type SettingIssue, type SettingsOf, settingIssues } from '../settings.js'

/**
 * The shape signal's settings (signals/shape-signal.ts), declared once like volume's DETECTOR_SETTINGS: config file,
 * API and stores derive theirs from this table once the signal is registered. Bounds follow limits.ts: finite and
 * small enough that no value makes the work explode (12 weeks of baseline is 12 x 24 values per series).
 */
export const SHAPE_SETTINGS = {
  variant: {
    name: 'variant',
    kind: 'choice',
    choices: ['mean', 'nearest'],
    default: 'mean',
    description:
      'mean: cosine against the mean shape of the baseline days. nearest: the best cosine among the baseline ' +
      'days (a day like any one of the last weeks is normal; tolerates alternating weeks).',
  },
  threshold: {
    name: 'threshold',
    kind: 'number',
    range: { min: 0, exclusiveMin: true, max: 1, integer: false },
    default: 0.9,
    description: 'A similarity below this is a shape anomaly.',
  },
  criticalThreshold: {
    name: 'critical_threshold',
    kind: 'number',
    range: { min: 0, max: 1, integer: false },
    default: 0.7,
    description: 'A similarity below this is critical (at most threshold; 0: never critical).',
  },
  baselineWeeks: {
    name: 'baseline_weeks',
    kind: 'number',
    range: { min: 1, max: 12, integer: true },
    default: 4,
    description: 'How many previous weeks give a baseline day (the same 24 hours on the same weekday).',
  },
  minBaselineWeeks: {
    name: 'min_baseline_weeks',
    kind: 'number',
    range: { min: 1, max: 12, integer: true },
    default: 2,
    description:
      'Fewer usable baseline days than this give no verdict (insufficient_data); at most baseline_weeks.',
  },
  minDailyVolume: {
    name: 'min_daily_volume',
    kind: 'number',
    range: { min: 0, max: 1e18, integer: false },
    default: 240,
    description:
      'A day whose total is below this has no meaningful shape: as the current day it gets no verdict, as a ' +
      'baseline day it is skipped. 240 (10 per hour) keeps Poisson noise on a flat day near cosine 0.95.',
  },
} as const satisfies Record<string, SettingDeclaration>

export type ShapeConfig = SettingsOf<typeof SHAPE_SETTINGS>

export const DEFAULT_SHAPE_CONFIG: ShapeConfig = {
  variant: SHAPE_SETTINGS.variant.default,
  threshold: SHAPE_SETTINGS.threshold.default,
  criticalThreshold: SHAPE_SETTINGS.criticalThreshold.default,
  baselineWeeks: SHAPE_SETTINGS.baselineWeeks.default,
  minBaselineWeeks: SHAPE_SETTINGS.minBaselineWeeks.default,
  minDailyVolume: SHAPE_SETTINGS.minDailyVolume.default,
}

/**
 * Every setting holding a value outside its declaration, plus the two relations the table cannot state:
 * critical_threshold <= threshold and min_baseline_weeks <= baseline_weeks (each checked against the other's value
 * or, when absent, its default).
 */
export function shapeSettingIssues(values: Partial<Record<keyof ShapeConfig, unknown>>): SettingIssue[] {
  const issues = settingIssues(SHAPE_SETTINGS, values)
  if (issues.length > 0) return issues
  const merged = { ...DEFAULT_SHAPE_CONFIG, ...values } as ShapeConfig
  if (merged.criticalThreshold > merged.threshold)
    issues.push({ field: 'critical_threshold', reason: `must be at most threshold (${merged.threshold})` })
  if (merged.minBaselineWeeks > merged.baselineWeeks)
    issues.push({
      field: 'min_baseline_weeks',
      reason: `must be at most baseline_weeks (${merged.baselineWeeks})`,
    })
  return issues
}
