import { describe, expect, it } from 'vitest'
import {
  calibratedThresholdOf,
  type DetectorConfig,
  detect,
  SEED_DETECTOR,
  type SeriesHistory,
} from './detector.js'
import { DAY_MS } from './time.js'
import { DEFAULT_VOLUME_OPTIONS } from './volume.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const options = DEFAULT_VOLUME_OPTIONS
const config = (c: Partial<DetectorConfig>): DetectorConfig => ({ ...SEED_DETECTOR, ...c })

/** A day window's history: the current value, then the baseline days nearest first (30 of them). */
function days(current: number, past: readonly number[]): SeriesHistory {
  return {
    slot: SLOT,
    firstHourMs: SLOT - 40 * DAY_MS,
    daily: [current, ...past],
    hourly: [current / 24, ...past.map((v) => v / 24)],
  }
}
/** 30 days alternating 90 and 110: mean 100, stddev 10, every sample at |z| = 1. */
const smooth = Array.from({ length: 30 }, (_, k) => (k % 2 ? 90 : 110))

describe('calibratedThresholdOf', () => {
  const baseline = { mean: 100, effectiveStddev: 10 }
  it('is the global threshold when the samples stray less than it', () => {
    expect(calibratedThresholdOf(smooth, baseline, 1, 3)).toBe(3)
  })
  it('is factor x the second largest |z|, leaving the largest out', () => {
    expect(calibratedThresholdOf([100, 100, 150, 40, 100], baseline, 1, 3)).toBe(5)
    expect(calibratedThresholdOf([100, 100, 150, 40, 100], baseline, 2, 3)).toBe(10)
    // One past anomaly alone does not raise the bar.
    expect(calibratedThresholdOf([100, 100, 500, 100, 100], baseline, 1, 3)).toBe(3)
  })
  it('falls back to the global threshold without two samples or without spread', () => {
    expect(calibratedThresholdOf([], baseline, 1, 3)).toBe(3)
    expect(calibratedThresholdOf([900], baseline, 1, 3)).toBe(3)
    expect(calibratedThresholdOf([100, 900, 900], { mean: 100, effectiveStddev: 0 }, 1, 3)).toBe(3)
    expect(calibratedThresholdOf([1e308, -1e308, 1e308], { mean: 0, effectiveStddev: 1e-308 }, 10, 3)).toBe(3)
  })
})

describe('detect with calibration', () => {
  it('off (0) judges exactly as without the setting', () => {
    const h = days(140, smooth)
    expect(detect(h, config({ calibration: 0 }), options)).toEqual(detect(h, SEED_DETECTOR, options))
    expect(detect(h, SEED_DETECTOR, options).calibratedThreshold).toBeUndefined()
  })

  it('leaves a smooth series at the global threshold: its spike still fires', () => {
    const detection = detect(days(140, smooth), config({ calibration: 1 }), options)
    expect(detection.calibratedThreshold).toBe(3)
    expect(detection.verdict).toMatchObject({ isAnomaly: true, severity: 'warning', direction: 'spike' })
  })

  it('holds a series that often strays that far to its own larger bar', () => {
    // Two past days as far out as today: today is ordinary for this series.
    const noisy = [...smooth.slice(0, 28), 190, 10]
    const plain = detect(days(190, noisy), SEED_DETECTOR, options)
    expect(plain.verdict.isAnomaly).toBe(true)
    const calibrated = detect(days(190, noisy), config({ calibration: 1 }), options)
    expect(calibrated.calibratedThreshold).toBeCloseTo(plain.verdict.zScore ?? 0, 9)
    expect(calibrated.verdict.isAnomaly).toBe(true) // exactly at the bar fires, like the global threshold
    const stricter = detect(days(190, noisy), config({ calibration: 1.2 }), options)
    expect(stricter.verdict).toMatchObject({ isAnomaly: false, severity: null, status: 'ok' })
    expect(stricter.verdict.zScore).toBe(plain.verdict.zScore)
  })

  it('is not raised by one past anomaly', () => {
    // Robust statistics, so the past anomaly does not inflate the baseline itself (its own |z| is ~60).
    const once = [...smooth.slice(0, 29), 1000]
    const detection = detect(days(400, once), config({ calibration: 1, statistic: 'robust' }), options)
    expect(detection.calibratedThreshold).toBe(3)
    expect(detection.verdict.isAnomaly).toBe(true)
  })

  it('gives a flat baseline the global threshold (the stddev floor decides)', () => {
    const flat = Array.from({ length: 30 }, () => 100)
    const detection = detect(days(110, flat), config({ calibration: 3 }), options)
    expect(detection.calibratedThreshold).toBe(3)
    expect(detection.verdict.isAnomaly).toBe(true)
  })

  it('leaves insufficient data untouched', () => {
    const h = { ...days(500, smooth), firstHourMs: SLOT - 3 * DAY_MS }
    const detection = detect(h, config({ calibration: 1 }), options)
    expect(detection.verdict.status).toBe('insufficient_data')
    expect(detection.calibratedThreshold).toBeUndefined()
  })

  it('calibrates each window on its own samples', () => {
    // The hour window's samples stray far (every other hour 0 or 2x); the day's are smooth.
    const h: SeriesHistory = {
      ...days(140, smooth),
      hourly: [140 / 24, ...Array.from({ length: 30 }, (_, k) => (k % 2 ? 0 : 200 / 24))],
    }
    const [day, hour] = [
      detect(h, config({ calibration: 1, windows: ['day'] }), options),
      detect(h, config({ calibration: 1, windows: ['hour'] }), options),
    ]
    expect(day.calibratedThreshold).toBe(3)
    expect(hour.window).toBe('hour')
    expect(hour.verdict.isAnomaly).toBe(false)
  })
})

describe('calibration and usage stopping', () => {
  // Two past spikes raise this series' own bar (~4.5) above what a stop reaches (|z| of 0 is ~3.2).
  const spiky = [...smooth.slice(0, 28), 230, 230]

  it('still reports a first stop: the baseline never dropped to zero', () => {
    const detection = detect(days(0, spiky), config({ calibration: 1.25 }), options)
    const z = Math.abs(detection.verdict.zScore ?? 0)
    expect(z).toBeGreaterThanOrEqual(3)
    expect(detection.calibratedThreshold).toBeGreaterThan(z)
    expect(detection.verdict).toMatchObject({ isAnomaly: true, severity: 'critical', direction: 'drop' })
  })

  it('holds a low value that is not zero to the series bar', () => {
    const low = detect(days(1, spiky), config({ calibration: 1.25 }), options)
    expect(low.calibratedThreshold).toBeGreaterThan(Math.abs(low.verdict.zScore ?? 0))
    expect(low.verdict.isAnomaly).toBe(false)
  })

  it('holds a series that has stopped before to its own bar', () => {
    const stopsOften = [...smooth.slice(0, 28), 0, 0]
    expect(detect(days(0, stopsOften), SEED_DETECTOR, options).verdict.isAnomaly).toBe(true)
    const detection = detect(days(0, stopsOften), config({ calibration: 1.25 }), options)
    expect(detection.calibratedThreshold).toBeGreaterThan(Math.abs(detection.verdict.zScore ?? 0))
    expect(detection.verdict.isAnomaly).toBe(false)
  })
})

describe('detect with hourThreshold', () => {
  // The day is smooth and normal; the hour is at |z| = 4 against its samples (mean 100, stddev 10).
  const h: SeriesHistory = {
    ...days(100, smooth),
    hourly: [140, ...smooth],
  }
  const both = (hourThreshold: number) => config({ windows: ['day', 'hour'], hourThreshold })

  it('off (0): the hour window fires at the global threshold', () => {
    const detection = detect(h, both(0), options)
    expect(detection).toMatchObject({ window: 'hour' })
    expect(detection.verdict).toMatchObject({ isAnomaly: true, severity: 'warning' })
  })

  it('holds the hour window to its own threshold and leaves the day window at the global one', () => {
    expect(detect(h, both(4.5), options).verdict.isAnomaly).toBe(false)
    const atBar = detect(h, both(4), options)
    expect(atBar).toMatchObject({ window: 'hour' })
    // At or above the hour threshold the anomaly is critical when that threshold is above the critical one.
    expect(detect(h, both(2), options).verdict.severity).toBe('warning')
    const day = { ...h, daily: [140, ...smooth] }
    expect(detect(day, both(1_000_000), options)).toMatchObject({
      window: 'day',
      verdict: { isAnomaly: true },
    })
  })

  it('keeps a higher threshold in force (a quieted customer) for the hour window too', () => {
    const at = (z: number) => ({ ...h, hourly: [100 + 10 * z, ...smooth] })
    const quieted = { ...options, threshold: 8, criticalThreshold: 9 }
    expect(detect(at(7), both(6), options).verdict.isAnomaly).toBe(true)
    expect(detect(at(7), both(6), quieted).verdict.isAnomaly).toBe(false)
    expect(detect(at(8.5), both(6), quieted).verdict.severity).toBe('warning')
    // A lowered threshold in force makes the day window more sensitive, not the hour window.
    const sensitive = { ...options, threshold: 2 }
    expect(detect(at(4), both(6), sensitive).verdict.isAnomaly).toBe(false)
    expect(detect({ ...h, daily: [125, ...smooth] }, both(6), sensitive)).toMatchObject({
      window: 'day',
      verdict: { isAnomaly: true },
    })
  })

  it('keeps the global critical |z| unless the hour threshold is above it', () => {
    const at = (z: number) => ({ ...h, hourly: [100 + 10 * z, ...smooth] })
    expect(detect(at(4.5), both(4), options).verdict.severity).toBe('warning')
    expect(detect(at(5.5), both(4), options).verdict.severity).toBe('critical')
    expect(detect(at(5.5), both(6), options).verdict.isAnomaly).toBe(false)
    expect(detect(at(7), both(6), options).verdict.severity).toBe('critical')
    expect(detect(at(7), both(8), options).verdict.isAnomaly).toBe(false)
  })
})
