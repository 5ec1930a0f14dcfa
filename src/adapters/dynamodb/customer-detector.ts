import {
  type DetectorConfig,
  detectorFromJson,
  detectorSettingIssues,
  detectorToJson,
} from '../../domain/detector-settings.js'
import { type FieldIssue, ValidationError } from '../../errors.js'
import type { Item, Reader } from './items.js'

// A customer's detector settings (CustomerProfile.detector) as the `detector` attribute of its registry item: a
// map holding only the settings the customer overrides, under the API's snake_case names (level_shift_days,
// persist_runs, ...), or NULL for none. Names, values and checks all come from the settings' one declaration
// (src/domain/detector-settings.ts): a setting declared there is stored here without a line of its own.

/** The attribute value; settings the customer does not override are left out of the map. */
export function detectorAttribute(d: Partial<DetectorConfig> | null): Item | null {
  return d === null ? null : detectorToJson(d)
}

/**
 * Throws a ValidationError naming each setting outside its declaration (a value the store could not read back,
 * NaN, Infinity, out of bounds) before anything is sent.
 */
export function checkDetector(d: Partial<DetectorConfig> | null): void {
  if (d === null) return
  const issues: FieldIssue[] = detectorSettingIssues(d).map((i) => ({
    field: `detector.${i.field}`,
    reason: i.reason,
  }))
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid customer: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
}

/**
 * The settings in the map attribute `name` (null when absent or NULL); a setting outside its declaration makes
 * the item malformed. Keys this version does not know are left out (a newer writer's settings).
 */
export function readDetector(r: Reader, name: string): Partial<DetectorConfig> | null {
  const map = r.nullableMap(name)
  if (map === null) return null
  const d = detectorFromJson(map)
  const [issue] = detectorSettingIssues(d)
  if (issue) r.fail(`${name}.${issue.field}`, issue.reason.replace(/^must be /, ''))
  return d
}
