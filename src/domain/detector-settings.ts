import { inRange, type NumberRange, rangeReason } from './limits.js'

/**
 * Every detector setting, declared once: its API and storage name, what values it takes, its configured default
 * and what it does. The DetectorConfig type, the config file's schema, the HTTP schema and serializer and the
 * stores' mappings and checks are all derived from this table, so a setting added here reaches every one of them
 * (and a store that drops one fails the anomaly store contract, whose fixture is built from this table).
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
    choices: ['day', 'hour'],
    default: ['day'],
    description:
      'day: the trailing 24 h (slow drifts). hour: the last hour against the same hour on previous days (early).',
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
} as const satisfies Record<string, DetectorSetting>

/**
 * What a setting takes: one of `choices`; a non-empty list of distinct `choices`; or a finite number in `range`.
 */
export type DetectorSetting =
  | { name: string; kind: 'choice'; choices: readonly string[]; default: string; description: string }
  | {
      name: string
      kind: 'list'
      choices: readonly string[]
      default: readonly string[]
      description: string
    }
  | { name: string; kind: 'number'; range: NumberRange; default: number; description: string }

type Settings = typeof DETECTOR_SETTINGS
export type DetectorSettingKey = keyof Settings

type ValueOf<S> = S extends { kind: 'choice'; choices: readonly (infer C)[] }
  ? C
  : S extends { kind: 'list'; choices: readonly (infer C)[] }
    ? readonly C[]
    : number

/** How a series is judged; selectable per metric and per customer. The seed's method is SEED_DETECTOR. */
export type DetectorConfig = { -readonly [K in DetectorSettingKey]: ValueOf<Settings[K]> }

/** The settings under their API and storage names (snake_case), each optional: overrides. */
export type DetectorSettingsJson = {
  -readonly [K in DetectorSettingKey as Settings[K]['name']]?: DetectorConfig[K]
}

export const DETECTOR_SETTING_KEYS = Object.keys(DETECTOR_SETTINGS) as DetectorSettingKey[]

const entries = DETECTOR_SETTING_KEYS.map((key) => [key, DETECTOR_SETTINGS[key] as DetectorSetting] as const)

/** Why `value` is not a value of the setting, or null when it is one. */
export function settingProblem(setting: DetectorSetting, value: unknown): string | null {
  switch (setting.kind) {
    case 'choice':
      return typeof value === 'string' && setting.choices.includes(value)
        ? null
        : `must be one of ${setting.choices.join(', ')}`
    case 'list':
      return Array.isArray(value) &&
        value.length > 0 &&
        value.every((v) => typeof v === 'string' && setting.choices.includes(v)) &&
        new Set(value).size === value.length
        ? null
        : `must be a non-empty list of distinct values of ${setting.choices.join(', ')}`
    case 'number':
      return typeof value === 'number' && inRange(value, setting.range) ? null : rangeReason(setting.range)
  }
}

export interface DetectorSettingIssue {
  /** The setting's API name. */
  field: string
  reason: string
}

/** Every setting of `d` holding a value outside its declaration (absent settings are fine). */
export function detectorSettingIssues(
  d: Partial<Record<DetectorSettingKey, unknown>>,
): DetectorSettingIssue[] {
  const issues: DetectorSettingIssue[] = []
  for (const [key, setting] of entries) {
    if (d[key] === undefined) continue
    const reason = settingProblem(setting, d[key])
    if (reason !== null) issues.push({ field: setting.name, reason })
  }
  return issues
}

/** The overrides under their API names; absent settings stay absent. */
export function detectorToJson(d: Partial<DetectorConfig>): DetectorSettingsJson {
  const json: Record<string, unknown> = {}
  for (const [key, setting] of entries) {
    const value = d[key]
    if (value !== undefined) json[setting.name] = Array.isArray(value) ? [...value] : value
  }
  return json as DetectorSettingsJson
}

/**
 * The overrides from their API names. Names this version does not declare are left out (a newer writer's
 * settings); values are taken as they are: check them with detectorSettingIssues when they come from outside.
 */
export function detectorFromJson(json: Readonly<Record<string, unknown>>): Partial<DetectorConfig> {
  const d: Record<string, unknown> = {}
  for (const [key, setting] of entries) {
    const value = json[setting.name]
    if (value !== undefined) d[key] = Array.isArray(value) ? [...value] : value
  }
  return d as Partial<DetectorConfig>
}
