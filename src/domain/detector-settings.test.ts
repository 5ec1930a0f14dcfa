import { describe, expect, it } from 'vitest'
import { SEED_DETECTOR } from './detector.js'
import {
  DETECTOR_SETTING_KEYS,
  DETECTOR_SETTINGS,
  type DetectorConfig,
  detectorFromJson,
  detectorSettingIssues,
  detectorToJson,
} from './detector-settings.js'

const tuned: DetectorConfig = {
  statistic: 'robust',
  baseline: 'weekday',
  windows: ['hour', 'day', 'recent'],
  levelShiftDays: 14,
  minVolume: 0.25,
  hourThreshold: 6,
  recentHours: 72,
  recentThreshold: 5,
  calibration: 1.5,
  persistRuns: 3,
  persistWindow: 24,
}

describe('detector settings', () => {
  it('map every setting to its snake_case API name and back, leaving absent ones absent', () => {
    expect(detectorToJson(tuned)).toStrictEqual({
      statistic: 'robust',
      baseline: 'weekday',
      windows: ['hour', 'day', 'recent'],
      level_shift_days: 14,
      min_volume: 0.25,
      hour_threshold: 6,
      recent_hours: 72,
      recent_threshold: 5,
      calibration: 1.5,
      persist_runs: 3,
      persist_window: 24,
    })
    expect(detectorFromJson(detectorToJson(tuned))).toStrictEqual(tuned)
    expect(detectorToJson({ persistWindow: 4 })).toStrictEqual({ persist_window: 4 })
    expect(detectorFromJson({ persist_runs: 2, a_newer_setting: true })).toStrictEqual({ persistRuns: 2 })
    expect(new Set(DETECTOR_SETTING_KEYS.map((k) => DETECTOR_SETTINGS[k].name)).size).toBe(
      DETECTOR_SETTING_KEYS.length,
    )
  })

  it('accept the seed, the declared defaults and both ends of every range', () => {
    expect(detectorSettingIssues(SEED_DETECTOR)).toEqual([])
    expect(detectorSettingIssues(tuned)).toEqual([])
    const defaults = Object.fromEntries(DETECTOR_SETTING_KEYS.map((k) => [k, DETECTOR_SETTINGS[k].default]))
    expect(detectorSettingIssues(defaults)).toEqual([])
    expect(
      detectorSettingIssues({ levelShiftDays: 0, minVolume: 0, persistRuns: 1, persistWindow: 1 }),
    ).toEqual([])
    expect(detectorSettingIssues({ minVolume: 1e18, windows: ['day'] })).toEqual([])
    expect(detectorSettingIssues({ calibration: 0, hourThreshold: 0 })).toEqual([])
    expect(detectorSettingIssues({ hourThreshold: 1_000_000 })).toEqual([])
    expect(detectorSettingIssues({ calibration: 10 })).toEqual([])
  })

  it('name every setting outside its declaration, with the reason', () => {
    expect(
      detectorSettingIssues({
        statistic: 'median',
        baseline: 7,
        windows: ['day', 'day'],
        levelShiftDays: 1.5,
        minVolume: Number.POSITIVE_INFINITY,
        hourThreshold: Number.POSITIVE_INFINITY,
        calibration: -0.5,
        persistRuns: 0,
        persistWindow: '3',
      }),
    ).toEqual([
      { field: 'statistic', reason: 'must be one of zscore, robust' },
      { field: 'baseline', reason: 'must be one of all, daytype, weekday, auto' },
      { field: 'windows', reason: 'must be a non-empty list of distinct values of day, hour, recent' },
      { field: 'level_shift_days', reason: 'must be an integer in 0..14' },
      { field: 'min_volume', reason: 'must be a number in 0..1000000000000000000' },
      { field: 'hour_threshold', reason: 'must be a number in 0..1000000' },
      { field: 'calibration', reason: 'must be a number in 0..10' },
      { field: 'persist_runs', reason: 'must be an integer in 1..24' },
      { field: 'persist_window', reason: 'must be an integer in 1..24' },
    ])
    expect(detectorSettingIssues({ windows: [] })).toHaveLength(1)
    expect(detectorSettingIssues({ calibration: 10.5 })).toHaveLength(1)
    expect(detectorSettingIssues({ calibration: Number.NaN })).toHaveLength(1)
    expect(detectorSettingIssues({ windows: ['week'] })).toHaveLength(1)
    expect(detectorSettingIssues({ minVolume: Number.NaN, persistRuns: 25 }).map((i) => i.field)).toEqual([
      'min_volume',
      'persist_runs',
    ])
  })
})
