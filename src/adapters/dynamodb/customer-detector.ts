import type { DetectorConfig } from '../../domain/detector.js'
import { type FieldIssue, ValidationError } from '../../errors.js'
import type { Item, Reader } from './items.js'

// A customer's detector settings (CustomerProfile.detector) as the `detector` attribute of its registry item: a
// map holding only the settings the customer overrides, with the API's snake_case names (level_shift_days,
// min_volume), or NULL for none. A setting absent from the map is absent from the profile, never undefined.

const STATISTICS: readonly DetectorConfig['statistic'][] = ['zscore', 'robust']
const BASELINES: readonly DetectorConfig['baseline'][] = ['all', 'daytype', 'weekday', 'auto']
const WINDOWS: readonly DetectorConfig['windows'][number][] = ['day', 'hour']

/** The attribute value; undefined settings are left out of the map (the document client drops them). */
export function detectorAttribute(d: Partial<DetectorConfig> | null): Item | null {
  if (d === null) return null
  return {
    statistic: d.statistic,
    baseline: d.baseline,
    windows: d.windows === undefined ? undefined : [...d.windows],
    level_shift_days: d.levelShiftDays,
    min_volume: d.minVolume,
  }
}

/**
 * Throws a ValidationError naming each setting the store could not read back (a value outside its choices) or
 * cannot store at all (NaN, Infinity).
 */
export function checkDetector(d: Partial<DetectorConfig> | null): void {
  if (d === null) return
  const issues: FieldIssue[] = []
  const oneOf = (field: string, value: string | undefined, allowed: readonly string[]) => {
    if (value !== undefined && !allowed.includes(value)) {
      issues.push({ field: `detector.${field}`, reason: `must be one of ${allowed.join(', ')}` })
    }
  }
  oneOf('statistic', d.statistic, STATISTICS)
  oneOf('baseline', d.baseline, BASELINES)
  if (d.windows !== undefined && !(Array.isArray(d.windows) && d.windows.every((w) => WINDOWS.includes(w)))) {
    issues.push({ field: 'detector.windows', reason: `must be a list of ${WINDOWS.join(', ')}` })
  }
  for (const [field, value] of [
    ['level_shift_days', d.levelShiftDays],
    ['min_volume', d.minVolume],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) {
      issues.push({ field: `detector.${field}`, reason: `must be a finite number, got ${String(value)}` })
    }
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid customer: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
}

/**
 * The settings in the map attribute `name` (null when absent or NULL); a setting of the wrong type is a malformed
 * item. Keys this version does not know are left out (a newer writer's settings).
 */
export function readDetector(r: Reader, name: string): Partial<DetectorConfig> | null {
  const map = r.nullableMap(name)
  if (map === null) return null
  const d: Partial<DetectorConfig> = {}
  const choice = <T extends string>(key: string, allowed: readonly T[]): T =>
    allowed.includes(map[key] as T)
      ? (map[key] as T)
      : r.fail(`${name}.${key}`, `one of ${allowed.join(', ')}`)
  const number = (key: string): number => {
    const v = map[key]
    return typeof v === 'number' && Number.isFinite(v) ? v : r.fail(`${name}.${key}`, 'a number')
  }
  if (map.statistic !== undefined) d.statistic = choice('statistic', STATISTICS)
  if (map.baseline !== undefined) d.baseline = choice('baseline', BASELINES)
  if (map.windows !== undefined) {
    const windows = map.windows
    d.windows =
      Array.isArray(windows) && windows.every((w) => WINDOWS.includes(w))
        ? (windows as DetectorConfig['windows'][number][])
        : r.fail(`${name}.windows`, `a list of ${WINDOWS.join(', ')}`)
  }
  if (map.level_shift_days !== undefined) d.levelShiftDays = number('level_shift_days')
  if (map.min_volume !== undefined) d.minVolume = number('min_volume')
  return d
}
