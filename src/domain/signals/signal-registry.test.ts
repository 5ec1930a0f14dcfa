import { describe, expect, it } from 'vitest'
import { type AnomalyRecord, anomalyIdentity, signalFieldValues } from '../anomaly.js'
import { type DetectorConfig, detect, SEED_DETECTOR, type SeriesHistory } from '../detector.js'
import { DETECTOR_SETTINGS } from '../detector-settings.js'
import { DAY_MS, HOUR_MS } from '../time.js'
import { DEFAULT_VOLUME_OPTIONS } from '../volume.js'
import { type SignalDeclaration, signalFieldProblem } from './signal.js'
import { allSignalFields, SIGNAL_KINDS, SIGNALS, signalFields } from './signal-registry.js'
import { evaluateVolume, VOLUME_SIGNAL } from './volume-signal.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const COMMON_API_NAMES = [
  'customer_id',
  'metric',
  'detected_at',
  'kind',
  'current_value',
  'severity',
  'direction',
  'window',
  'incident_id',
  'run_id',
  'expires_at',
]

describe('the signal registry', () => {
  it('declares each signal once: distinct kinds, snake_case field names that clash with no common field, a statistic among its fields', () => {
    expect(new Set(SIGNAL_KINDS).size).toBe(SIGNALS.length)
    for (const signal of SIGNALS as readonly SignalDeclaration[]) {
      expect(signal.kind).toMatch(/^[a-z][a-z_]*$/)
      const names = Object.values(signal.fields).map((f) => f.name)
      expect(new Set(names).size).toBe(names.length)
      for (const name of names) {
        expect(name).toMatch(/^[a-z][a-z0-9_]*$/)
        expect(COMMON_API_NAMES).not.toContain(name)
      }
      expect(Object.keys(signal.fields)).toContain(signal.statistic)
      // A choice field offers distinct snake_case words; the statistic is a number.
      for (const field of Object.values(signal.fields)) {
        if (field.type !== 'choice') continue
        expect(field.choices.length).toBeGreaterThan(0)
        expect(new Set(field.choices).size).toBe(field.choices.length)
        for (const choice of field.choices) expect(choice).toMatch(/^[a-z][a-z0-9_]*$/)
      }
      expect(signal.fields[signal.statistic]?.type).not.toBe('choice')
    }
    // Two signals may share a field only if they declare it alike (the API lists each name once).
    expect(allSignalFields().length).toBe(new Set(allSignalFields().map((f) => f.name)).size)
  })

  it("gives volume the seed's DynamoDB attributes and the detector settings", () => {
    expect(signalFields('volume').map(([key, f]) => [key, f.name, f.type])).toEqual([
      ['baselineMean', 'baseline_mean', 'real'],
      ['baselineStddev', 'baseline_stddev', 'real'],
      ['zScore', 'z_score', 'real'],
      ['samples', 'samples', 'integer'],
      ['windowKind', 'window_kind', 'choice'],
    ])
    // The windows it names are the ones the `windows` setting offers, declared there once.
    expect(VOLUME_SIGNAL.fields.windowKind.choices).toBe(DETECTOR_SETTINGS.windows.choices)
    expect(VOLUME_SIGNAL.fields.windowKind.choices).toEqual(['day', 'hour', 'recent'])
    expect(VOLUME_SIGNAL.statistic).toBe('zScore')
    expect(VOLUME_SIGNAL.settings).toBe(DETECTOR_SETTINGS)
  })

  it("maps a record's own fields to their API names, and names a record by customer, metric, slot and kind", () => {
    const record: AnomalyRecord = {
      kind: 'volume',
      customerId: 'acme',
      metric: 'api_calls',
      detectedAt: SLOT,
      currentValue: 10,
      baselineMean: 1,
      baselineStddev: 2,
      zScore: 4.5,
      samples: 9,
      windowKind: 'hour',
      severity: 'warning',
      direction: 'spike',
      windowStart: SLOT - HOUR_MS,
      windowEnd: SLOT,
      incidentId: null,
      runId: 'r',
      ttl: 1,
    }
    expect(signalFieldValues(record)).toStrictEqual({
      baseline_mean: 1,
      baseline_stddev: 2,
      z_score: 4.5,
      samples: 9,
      window_kind: 'hour',
    })
    // A record stored before the window was recorded has none: null, under the same name.
    expect(signalFieldValues({ ...record, windowKind: null })).toMatchObject({ window_kind: null })
    expect(anomalyIdentity(record)).toBe(JSON.stringify(['acme', 'api_calls', SLOT, 'volume']))
    const replay: AnomalyRecord = { ...record, zScore: 99, runId: 'other' }
    expect(anomalyIdentity(replay)).toBe(anomalyIdentity(record))
  })
})

describe('the volume signal', () => {
  const history = (current: number, days = 30): SeriesHistory => {
    const daily = [current, ...Array.from({ length: days }, (_, k) => 1000 + ((k * 37) % 11) * 10)]
    return { slot: SLOT, firstHourMs: SLOT - 40 * DAY_MS, daily, hourly: daily.map((v) => v / 24) }
  }
  const detectors: DetectorConfig[] = [
    SEED_DETECTOR,
    { ...SEED_DETECTOR, statistic: 'robust', baseline: 'auto', windows: ['day', 'hour'], levelShiftDays: 2 },
    { ...SEED_DETECTOR, minVolume: 5000 },
  ]

  it('is detect() unchanged, stated as a verdict with its statistic and its record fields', () => {
    for (const detector of detectors) {
      for (const current of [0, 900, 1050, 1400, 5000]) {
        const h = history(current)
        const expected = detect(h, detector, DEFAULT_VOLUME_OPTIONS)
        const { verdict, detection, fields } = evaluateVolume(h, detector, DEFAULT_VOLUME_OPTIONS)
        expect(detection).toStrictEqual(expected)
        const v = expected.verdict
        expect(verdict).toStrictEqual({
          kind: 'volume',
          status: v.status,
          isAnomaly: v.isAnomaly,
          severity: v.severity,
          direction: v.direction,
          currentValue: v.currentValue,
          statistic: v.zScore,
        })
        expect(fields).toStrictEqual({
          baselineMean: v.baseline.mean,
          baselineStddev: v.baseline.stddev,
          zScore: v.zScore,
          samples: v.baseline.samples,
          windowKind: detection.window,
        })
      }
    }
  })

  it('records the window that won: day for a day-long rise, recent for a sudden hour on a young series', () => {
    const rise = evaluateVolume(
      history(5000),
      { ...SEED_DETECTOR, windows: ['day', 'recent'] },
      DEFAULT_VOLUME_OPTIONS,
    )
    expect(rise.verdict.isAnomaly).toBe(true)
    expect(rise.fields?.windowKind).toBe('day')
    // Three days old (the day window needs 7), 100 an hour, then 1000 in the last hour.
    const recent = Array.from({ length: 71 }, (_, j) => (j % 2 ? 90 : 110))
    const young: SeriesHistory = {
      slot: SLOT,
      firstHourMs: SLOT - 72 * HOUR_MS,
      daily: [2400 + 900, 2400, 2400],
      hourly: [1000, 100, 100],
      recent,
    }
    const hour = evaluateVolume(
      young,
      { ...SEED_DETECTOR, windows: ['day', 'recent'] },
      DEFAULT_VOLUME_OPTIONS,
    )
    expect(hour.verdict).toMatchObject({ isAnomaly: true, direction: 'spike' })
    expect(hour.detection.window).toBe('recent')
    expect(hour.fields?.windowKind).toBe('recent')
  })

  it('has no fields and no statistic without a verdict', () => {
    const { verdict, fields } = evaluateVolume(history(5000, 3), SEED_DETECTOR, DEFAULT_VOLUME_OPTIONS)
    expect(verdict).toMatchObject({ status: 'insufficient_data', statistic: null, isAnomaly: false })
    expect(fields).toBeNull()
  })
})

describe('signalFieldProblem', () => {
  const { samples, zScore, windowKind } = VOLUME_SIGNAL.fields

  it('takes whole numbers for an integer field and finite ones for a real field, nothing else', () => {
    expect(signalFieldProblem(samples, 30)).toBeNull()
    expect(signalFieldProblem(samples, 2.5)).toBe('must be an integer, got 2.5')
    expect(signalFieldProblem(samples, null)).toBe('must be an integer, got null')
    expect(signalFieldProblem(zScore, -4.25)).toBeNull()
    expect(signalFieldProblem(zScore, Number.POSITIVE_INFINITY)).toBe('must be a finite number, got Infinity')
    expect(signalFieldProblem(zScore, '4')).toBe('must be a finite number, got 4')
  })

  it('takes one of the choices or null (not recorded) for a choice field, nothing else', () => {
    for (const choice of ['day', 'hour', 'recent', null])
      expect(signalFieldProblem(windowKind, choice)).toBeNull()
    for (const bad of ['week', 'Day', '', 1, undefined]) {
      expect(signalFieldProblem(windowKind, bad)).toBe(
        `must be one of day, hour, recent or null, got ${String(bad)}`,
      )
    }
  })
})
