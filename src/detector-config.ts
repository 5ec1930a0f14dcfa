import { z } from 'zod'
import { boolFlag } from './alerts-config.js'
import { DETECTOR_SETTINGS } from './domain/detector-settings.js'
import { inRange, rangeReason } from './domain/limits.js'
import type { SettingDeclaration, SettingsOf, SettingsTable } from './domain/signals/settings.js'
import { SHAPE_SETTINGS, shapeSettingIssues } from './domain/signals/shape/shape-settings.js'

// The config file's signal settings (detection.detector, detection.detectorsByMetric for volume), derived from
// each signal's one declaration (src/domain/detector-settings.ts for volume) under the camelCase names the config
// file uses.

function settingSchema(setting: SettingDeclaration): z.ZodType {
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

const shape = <T>(table: SettingsTable, of: (setting: SettingDeclaration) => z.ZodType) =>
  Object.fromEntries(Object.entries(table).map(([key, setting]) => [key, of(setting)])) as T

/** Every setting of a signal's table, absent ones taking their default. */
export function settingsSchema<T extends SettingsTable>(table: T) {
  return z.object(
    shape<{ [K in keyof T]: z.ZodDefault<z.ZodType<SettingsOf<T>[K]>> }>(table, (s) =>
      settingSchema(s).default(s.default),
    ),
  )
}

/**
 * Overrides on top of other settings (per metric): absent settings stay absent so that they keep the value
 * they override, rather than resetting it to the default.
 */
export function settingsOverridesSchema<T extends SettingsTable>(table: T) {
  return z.object(
    shape<{ [K in keyof T]: z.ZodOptional<z.ZodType<SettingsOf<T>[K]>> }>(table, (s) =>
      settingSchema(s).optional(),
    ),
  )
}

/** The volume signal's detector, every setting. */
export const detectorSchema = settingsSchema(DETECTOR_SETTINGS)

/** Per-metric overrides of the volume signal's detector. */
export const detectorOverridesSchema = settingsOverridesSchema(DETECTOR_SETTINGS)

/**
 * The shape signal's settings (config `detection.shape`): every setting of SHAPE_SETTINGS plus `enabled`, off by
 * default: the eval (issue 11, item 6) measured combined losing to volume alone. The relations the table cannot state are shapeSettingIssues'.
 */
export const shapeConfigSchema = settingsSchema(SHAPE_SETTINGS)
  .extend({ enabled: boolFlag.default(false) })
  .superRefine((value, ctx) => {
    const { enabled: _enabled, ...settings } = value
    for (const issue of shapeSettingIssues(settings)) {
      const key = Object.entries(SHAPE_SETTINGS).find(([, s]) => s.name === issue.field)?.[0] ?? issue.field
      ctx.addIssue({ code: 'custom', message: issue.reason, path: [key] })
    }
  })
