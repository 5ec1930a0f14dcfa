import {
  type SettingDeclaration,
  type SettingIssue,
  type SettingsJsonOf,
  type SettingsOf,
  settingIssues,
  settingKeys,
  settingsFromJson,
  settingsToJson,
} from './signals/settings.js'

/**
 * Every detector setting (the volume signal's settings, see signals/volume-signal.ts), declared once: its API and
 * storage name, what values it takes, its configured default and what it does. The DetectorConfig type, the
 * config file's schema, the HTTP schema and serializer and the stores' mappings and checks are all derived from
 * this table (through signals/settings.ts), so a setting added here reaches every one of them (and a store that
 * drops one fails the anomaly store contract, whose fixture is built from this table).
 */
export const DETECTOR_SETTINGS = {
  statistic: {
    name: 'statistic',
    kind: 'choice',
    choices: ['zscore', 'robust'],
    default: 'zscore',
    description:
      'zscore: mean and population stddev (the seed). robust: median and MAD, so past anomalies do not inflate ' +
      'the baseline.',
  },
  baseline: {
    name: 'baseline',
    kind: 'choice',
    choices: ['all', 'daytype', 'weekday', 'auto'],
    default: 'auto',
    description:
      'all: every previous day. daytype: only days of the same kind (weekday vs weekend). weekday: the same ' +
      'weekday. auto: daytype for a series whose weekends clearly differ from its weekdays, else all.',
  },
  windows: {
    name: 'windows',
    kind: 'list',
    choices: ['day', 'hour', 'recent'],
    default: ['day', 'recent'],
    description:
      'day: the trailing 24 h (slow drifts). hour: the last hour against the same hour on previous days (early). ' +
      'recent: the last hour against the recent_hours before it (from the second day of a series; a level shift ' +
      'becomes the normal within recent_hours).',
  },
  levelShiftDays: {
    name: 'level_shift_days',
    kind: 'number',
    range: { min: 0, max: 14, integer: true },
    default: 0,
    description:
      '>0: once the last N days all sit beyond the threshold on the same side, they are the new normal.',
  },
  minVolume: {
    name: 'min_volume',
    kind: 'number',
    // A window's aggregate (a day's sum of bounded events) stays below it.
    range: { min: 0, max: 1e18, integer: false },
    default: 0,
    description: 'Below this (current and baseline both) nothing alerts: tiny series do not page.',
  },
  hourThreshold: {
    name: 'hour_threshold',
    kind: 'number',
    range: { min: 0, max: 1_000_000, integer: false },
    default: 0,
    description:
      '>0: the |z| at which the hour window fires (and at least its critical |z|): an hour is noisier than a ' +
      'day. A higher threshold in force (global or a customer override) still holds. 0: the threshold in force ' +
      'for both windows.',
  },
  recentHours: {
    name: 'recent_hours',
    kind: 'number',
    range: { min: 24, max: 720, integer: true },
    default: 168,
    description:
      "The recent window's baseline: this many hours before the current one (at least 24 of them needed for a " +
      'verdict). Longer: steadier, slower to accept a new level.',
  },
  recentThreshold: {
    name: 'recent_threshold',
    kind: 'number',
    range: { min: 0, max: 1_000_000, integer: false },
    default: 4.5,
    description:
      '>0: the |z| at which the recent window fires (and at least its critical |z|); a higher threshold in ' +
      'force still holds. 0: the threshold in force.',
  },
  calibration: {
    name: 'calibration',
    kind: 'number',
    range: { min: 0, max: 10, integer: false },
    default: 1.25,
    description:
      ">0: a window fires only when |z| also reaches this multiple of its own baseline samples' second largest " +
      '|z| (the largest is left out, so one past anomaly does not raise the bar): a threshold per series and ' +
      'window, from how far its ordinary days stray. 0: the global threshold alone.',
  },
  persistRuns: {
    name: 'persist_runs',
    kind: 'number',
    range: { min: 1, max: 24, integer: true },
    default: 1,
    description:
      'An incident opens only when the series was anomalous in at least persist_runs of the last ' +
      'persist_window hourly runs (this one included). 1 of 1 opens on the first anomalous run (the seed).',
  },
  persistWindow: {
    name: 'persist_window',
    kind: 'number',
    range: { min: 1, max: 24, integer: true },
    default: 1,
    description: 'How many of the latest hourly runs persist_runs counts in (at least persist_runs).',
  },
} as const satisfies Record<string, SettingDeclaration>

/** One detector setting's declaration. */
export type DetectorSetting = SettingDeclaration

type Settings = typeof DETECTOR_SETTINGS
export type DetectorSettingKey = keyof Settings

/** How a series is judged; selectable per metric and per customer. The seed's method is SEED_DETECTOR. */
export type DetectorConfig = SettingsOf<Settings>

/** The settings under their API and storage names (snake_case), each optional: overrides. */
export type DetectorSettingsJson = SettingsJsonOf<Settings>

export const DETECTOR_SETTING_KEYS: DetectorSettingKey[] = settingKeys(DETECTOR_SETTINGS)

export type DetectorSettingIssue = SettingIssue

/** Every setting of `d` holding a value outside its declaration (absent settings are fine). */
export function detectorSettingIssues(
  d: Partial<Record<DetectorSettingKey, unknown>>,
): DetectorSettingIssue[] {
  return settingIssues(DETECTOR_SETTINGS, d)
}

/** The overrides under their API names; absent settings stay absent. */
export function detectorToJson(d: Partial<DetectorConfig>): DetectorSettingsJson {
  return settingsToJson(DETECTOR_SETTINGS, d)
}

/** The overrides from their API names (names this version does not declare are left out; values unchecked). */
export function detectorFromJson(json: Readonly<Record<string, unknown>>): Partial<DetectorConfig> {
  return settingsFromJson(DETECTOR_SETTINGS, json)
}
