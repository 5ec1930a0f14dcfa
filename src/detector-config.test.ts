import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'
import { detectorOverridesSchema, detectorSchema } from './detector-config.js'
import { DETECTOR_SETTING_KEYS, DETECTOR_SETTINGS } from './domain/detector-settings.js'

describe('the config file detector schema', () => {
  it('defaults every declared setting to its declared default', () => {
    const defaults = Object.fromEntries(DETECTOR_SETTING_KEYS.map((k) => [k, DETECTOR_SETTINGS[k].default]))
    expect(detectorSchema.parse({})).toEqual(defaults)
    expect(loadConfig({}, {}).detection.detector).toEqual(defaults)
  })

  it('keeps per-metric entries as overrides: settings an entry leaves out keep the configured detector', () => {
    const config = loadConfig(
      {},
      {
        detection: {
          detector: { windows: ['day', 'hour'], persistRuns: 2, persistWindow: 3 },
          detectorsByMetric: { bandwidth: { statistic: 'robust' } },
        },
      },
    )
    expect(config.detection.detectorsByMetric.bandwidth).toStrictEqual({ statistic: 'robust' })
    expect({ ...config.detection.detector, ...config.detection.detectorsByMetric.bandwidth }).toMatchObject({
      statistic: 'robust',
      windows: ['day', 'hour'],
      persistRuns: 2,
      persistWindow: 3,
    })
  })

  it('coerces numbers from text and refuses values outside the declaration, naming the path', () => {
    expect(detectorOverridesSchema.parse({ levelShiftDays: '3' })).toStrictEqual({ levelShiftDays: 3 })
    const refused = (detector: object, pattern: RegExp) =>
      expect(() => loadConfig({}, { detection: { detector } })).toThrow(pattern)
    refused({ persistRuns: 25 }, /detection\.detector\.persistRuns: must be an integer in 1\.\.24/)
    refused({ minVolume: '1e309' }, /detection\.detector\.minVolume/)
    refused({ windows: [] }, /detection\.detector\.windows/)
    refused({ windows: ['day', 'day'] }, /detection\.detector\.windows: must not repeat a value/)
    refused({ baseline: 'lunar' }, /detection\.detector\.baseline/)
    expect(() =>
      loadConfig({}, { detection: { detectorsByMetric: { api_calls: { levelShiftDays: 1.5 } } } }),
    ).toThrow(ConfigError)
  })
})
