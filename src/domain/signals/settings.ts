import { inRange, type NumberRange, rangeReason } from '../limits.js'

/**
 * How a signal's settings are declared, and everything derived from a declaration table: a signal module declares
 * its table once (volume: DETECTOR_SETTINGS in detector-settings.ts) and the config file's schema
 * (detector-config.ts), the HTTP schema (http/routes/schemas.ts), the serializers and the stores' mappings and
 * checks all come from it through these functions, so a setting added to a table reaches every one of them.
 */

/**
 * What a setting takes: one of `choices`; a non-empty list of distinct `choices`; or a finite number in `range`.
 * `name` is its API and storage name (snake_case); the table's key is its domain and config-file name.
 */
export type SettingDeclaration =
  | { name: string; kind: 'choice'; choices: readonly string[]; default: string; description: string }
  | {
      name: string
      kind: 'list'
      choices: readonly string[]
      default: readonly string[]
      description: string
    }
  | { name: string; kind: 'number'; range: NumberRange; default: number; description: string }

export type SettingsTable = Readonly<Record<string, SettingDeclaration>>

type ValueOf<S> = S extends { kind: 'choice'; choices: readonly (infer C)[] }
  ? C
  : S extends { kind: 'list'; choices: readonly (infer C)[] }
    ? readonly C[]
    : number

/** Every setting of a table with its value: the domain's config type of the signal. */
export type SettingsOf<T extends SettingsTable> = { -readonly [K in keyof T]: ValueOf<T[K]> }

/** The settings under their API and storage names (snake_case), each optional: overrides. */
export type SettingsJsonOf<T extends SettingsTable> = {
  -readonly [K in keyof T as T[K]['name']]?: SettingsOf<T>[K]
}

export function settingKeys<T extends SettingsTable>(table: T): (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[]
}

/** Why `value` is not a value of the setting, or null when it is one. */
export function settingProblem(setting: SettingDeclaration, value: unknown): string | null {
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

export interface SettingIssue {
  /** The setting's API name. */
  field: string
  reason: string
}

/** Every setting of `values` holding a value outside its declaration in `table` (absent settings are fine). */
export function settingIssues(
  table: SettingsTable,
  values: Readonly<Record<string, unknown>>,
): SettingIssue[] {
  const issues: SettingIssue[] = []
  for (const [key, setting] of Object.entries(table)) {
    if (values[key] === undefined) continue
    const reason = settingProblem(setting, values[key])
    if (reason !== null) issues.push({ field: setting.name, reason })
  }
  return issues
}

/** The overrides under their API names; absent settings stay absent. */
export function settingsToJson<T extends SettingsTable>(
  table: T,
  values: Partial<SettingsOf<T>>,
): SettingsJsonOf<T> {
  const json: Record<string, unknown> = {}
  for (const [key, setting] of Object.entries(table)) {
    const value = (values as Record<string, unknown>)[key]
    if (value !== undefined) json[setting.name] = Array.isArray(value) ? [...value] : value
  }
  return json as SettingsJsonOf<T>
}

/**
 * The overrides from their API names. Names the table does not declare are left out (a newer writer's settings);
 * values are taken as they are: check them with settingIssues when they come from outside.
 */
export function settingsFromJson<T extends SettingsTable>(
  table: T,
  json: Readonly<Record<string, unknown>>,
): Partial<SettingsOf<T>> {
  const values: Record<string, unknown> = {}
  for (const [key, setting] of Object.entries(table)) {
    const value = json[setting.name]
    if (value !== undefined) values[key] = Array.isArray(value) ? [...value] : value
  }
  return values as Partial<SettingsOf<T>>
}
