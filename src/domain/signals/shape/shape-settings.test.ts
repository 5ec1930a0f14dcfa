import { describe, expect, it } from 'vitest'
import { settingProblem, settingsFromJson, settingsToJson } from '../settings.js'
import { DEFAULT_SHAPE_CONFIG, SHAPE_SETTINGS, shapeSettingIssues } from './shape-settings.js'

describe('SHAPE_SETTINGS', () => {
  it('has defaults inside their own declarations, bounded and finite', () => {
    for (const [key, setting] of Object.entries(SHAPE_SETTINGS)) {
      expect(settingProblem(setting, setting.default), key).toBeNull()
      if (setting.kind === 'number') {
        expect(Number.isFinite(setting.range.min) && Number.isFinite(setting.range.max), key).toBe(true)
      }
    }
    expect(shapeSettingIssues(DEFAULT_SHAPE_CONFIG)).toEqual([])
  })

  it('defaults to the design: mean variant, 0.9, 4 weeks', () => {
    expect(DEFAULT_SHAPE_CONFIG).toMatchObject({ variant: 'mean', threshold: 0.9, baselineWeeks: 4 })
  })

  it('refuses values outside the declarations under their API names', () => {
    expect(
      shapeSettingIssues({ threshold: 0, baselineWeeks: 13, variant: 'median', minDailyVolume: Number.NaN }),
    ).toEqual([
      { field: 'variant', reason: 'must be one of mean, nearest' },
      { field: 'threshold', reason: 'must be a number > 0 and <= 1' },
      { field: 'baseline_weeks', reason: 'must be an integer in 1..12' },
      { field: 'min_daily_volume', reason: 'must be a number in 0..1000000000000000000' },
    ])
    expect(shapeSettingIssues({ threshold: 1.5 })).toHaveLength(1)
  })

  it('refuses a critical threshold above the threshold and more required weeks than weeks', () => {
    expect(shapeSettingIssues({ threshold: 0.6 })).toEqual([
      { field: 'critical_threshold', reason: 'must be at most threshold (0.6)' },
    ])
    expect(shapeSettingIssues({ threshold: 0.6, criticalThreshold: 0.5 })).toEqual([])
    expect(shapeSettingIssues({ baselineWeeks: 1 })).toEqual([
      { field: 'min_baseline_weeks', reason: 'must be at most baseline_weeks (1)' },
    ])
    expect(shapeSettingIssues({ baselineWeeks: 1, minBaselineWeeks: 1 })).toEqual([])
  })

  it('round-trips through its API names', () => {
    const json = settingsToJson(SHAPE_SETTINGS, DEFAULT_SHAPE_CONFIG)
    expect(Object.keys(json).sort()).toEqual([
      'baseline_weeks',
      'critical_threshold',
      'min_baseline_weeks',
      'min_daily_volume',
      'threshold',
      'variant',
    ])
    expect(settingsFromJson(SHAPE_SETTINGS, json)).toEqual(DEFAULT_SHAPE_CONFIG)
  })
})
