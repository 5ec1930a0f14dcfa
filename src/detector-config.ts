import { z } from 'zod'
import {
  DETECTOR_SETTING_KEYS,
  DETECTOR_SETTINGS,
  type DetectorConfig,
  type DetectorSetting,
  type DetectorSettingKey,
} from './domain/detector-settings.js'
import { inRange, rangeReason } from './domain/limits.js'

// The config file's detector settings (detection.detector, detection.detectorsByMetric), derived from the one
// declaration in src/domain/detector-settings.ts under the camelCase names the config file uses.

function settingSchema(setting: DetectorSetting): z.ZodType {
  switch (setting.kind) {
    case 'choice':
      return z.enum(setting.choices as [string, ...string[]])
    case 'list':
      return z
        .array(z.enum(setting.choices as [string, ...string[]]))
        .min(1)
        .max(setting.choices.length)
        .refine((list) => new Set(list).size === list.length, 'must not repeat a value')
    case 'number': {
      const { range } = setting
      return z.coerce.number().refine((value) => inRange(value, range), rangeReason(range))
    }
  }
}

const shape = <T>(of: (key: DetectorSettingKey, setting: DetectorSetting) => z.ZodType) =>
  Object.fromEntries(
    DETECTOR_SETTING_KEYS.map((key) => [key, of(key, DETECTOR_SETTINGS[key] as DetectorSetting)]),
  ) as T

/** Every setting, absent ones taking their default. */
export const detectorSchema = z.object(
  shape<{ [K in DetectorSettingKey]: z.ZodDefault<z.ZodType<DetectorConfig[K]>> }>((_, s) =>
    settingSchema(s).default(s.default),
  ),
)

/**
 * Overrides on top of another detector (per metric): absent settings stay absent so that they keep the value
 * they override, rather than resetting it to the default.
 */
export const detectorOverridesSchema = z.object(
  shape<{ [K in DetectorSettingKey]: z.ZodOptional<z.ZodType<DetectorConfig[K]>> }>((_, s) =>
    settingSchema(s).optional(),
  ),
)
