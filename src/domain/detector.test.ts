import { describe, expect, it } from 'vitest'
import { type DetectorConfig, detect, robustStats, SEED_DETECTOR, type SeriesHistory } from './detector.js'
import { DAY_MS, HOUR_MS } from './time.js'
import { DEFAULT_VOLUME_OPTIONS, volumeVerdict } from './volume.js'

// A Wednesday at noon UTC: the 24 h window's middle is Wednesday 00:00.
const SLOT = Date.UTC(2026, 10, 25, 12)
const options = DEFAULT_VOLUME_OPTIONS
const weekend = (k: number) => [0, 6].includes(new Date(SLOT - k * DAY_MS - DAY_MS / 2).getUTCDay())

/** 30 days of history: weekdays ~1000 a day, weekends ~100, with a small deterministic wiggle. */
function history(current: number, overrides: Partial<SeriesHistory> = {}): SeriesHistory {
  const daily = [current]
  const hourly = [current / 24]
  for (let k = 1; k <= 30; k++) {
    const level = weekend(k) ? 100 : 1000
    daily.push(level * (1 + ((k * 7) % 5) / 100))
    hourly.push((level / 24) * (1 + ((k * 3) % 7) / 100))
  }
  return { slot: SLOT, firstHourMs: SLOT - 40 * DAY_MS, daily, hourly, ...overrides }
}
const config = (c: Partial<DetectorConfig>): DetectorConfig => ({ ...SEED_DETECTOR, ...c })

describe('detect', () => {
  it('with the seed detector equals the seed volume check on the daily samples', () => {
    const h = history(1500)
    const detection = detect(h, SEED_DETECTOR, options)
    expect(detection.verdict).toEqual(volumeVerdict(1500, h.daily.slice(1), options))
    expect(detection).toMatchObject({ window: 'day', windowStart: SLOT - DAY_MS, windowEnd: SLOT })
  })

  it('drops samples from before the first hour', () => {
    const detection = detect(history(1000, { firstHourMs: SLOT - 10 * DAY_MS }), SEED_DETECTOR, options)
    expect(detection.verdict.baseline.samples).toBe(9)
  })

  it('sees a weekday drop to weekend level that the all-days baseline misses', () => {
    const h = history(300)
    expect(detect(h, SEED_DETECTOR, options).verdict.isAnomaly).toBe(false)
    const seasonal = detect(h, config({ baseline: 'daytype' }), options)
    expect(seasonal.verdict.baseline.samples).toBe(
      30 - [...Array(30).keys()].filter((k) => weekend(k + 1)).length,
    )
    expect(seasonal.verdict).toMatchObject({ isAnomaly: true, direction: 'drop' })
  })

  it('uses the day-type baseline with auto only for a series that has a weekly pattern', () => {
    const weekly = detect(history(300), config({ baseline: 'auto' }), options)
    expect(weekly.verdict).toMatchObject({ isAnomaly: true, direction: 'drop' })
    expect(weekly.verdict.baseline.samples).toBe(
      detect(history(300), config({ baseline: 'daytype' }), options).verdict.baseline.samples,
    )
    const flat = history(1000, {
      daily: [1000, ...Array.from({ length: 30 }, (_, k) => 1000 + ((k * 7) % 5) * 10)],
    })
    expect(detect(flat, config({ baseline: 'auto' }), options).verdict.baseline.samples).toBe(30)
  })

  it('compares only the same weekday with baseline weekday', () => {
    expect(
      detect(history(1000), config({ baseline: 'weekday' }), { ...options, minSamples: 3 }).verdict.baseline
        .samples,
    ).toBe(4)
  })

  it('keeps a past outlier from inflating the robust baseline', () => {
    const h = history(1400, { daily: history(1400).daily.map((v, k) => (k === 1 ? 50_000 : v)) })
    expect(detect(h, config({ baseline: 'daytype' }), options).verdict.isAnomaly).toBe(false)
    expect(detect(h, config({ baseline: 'daytype', statistic: 'robust' }), options).verdict.isAnomaly).toBe(
      true,
    )
  })

  it('catches a spike in the last hour with the hour window before the day total moves much', () => {
    const h = history(1030, { hourly: history(0).hourly.map((v, k) => (k === 0 ? 400 : v)) })
    expect(detect(h, config({ baseline: 'daytype' }), options).verdict.isAnomaly).toBe(false)
    const early = detect(h, config({ baseline: 'daytype', windows: ['day', 'hour'] }), options)
    expect(early).toMatchObject({ window: 'hour', windowStart: SLOT - HOUR_MS, windowEnd: SLOT })
    expect(early.verdict.direction).toBe('spike')
  })

  it('stops alerting once a level shift has held for the configured days', () => {
    // the three most recent weekdays (the daytype baseline's nearest samples) at the new level
    const weekdays = [...Array(30).keys()].map((i) => i + 1).filter((k) => !weekend(k))
    const shifted = history(3000).daily.map((v, k) => (weekdays.slice(0, 3).includes(k) ? 3000 : v))
    const h = history(3000, { daily: shifted })
    const c = config({ baseline: 'daytype', statistic: 'robust' })
    expect(detect(h, c, options).verdict.isAnomaly).toBe(true)
    expect(detect(h, { ...c, levelShiftDays: 3 }, options).verdict.isAnomaly).toBe(false)
    // only two days at the new level: not yet a new normal
    const young = history(3000, {
      daily: history(3000).daily.map((v, k) => (weekdays.slice(0, 2).includes(k) ? 3000 : v)),
    })
    expect(detect(young, { ...c, levelShiftDays: 3 }, options).verdict.isAnomaly).toBe(true)
  })

  it('does not page for a tiny series below the minimum volume', () => {
    const tiny = history(0, { daily: [40, ...Array(30).fill(2)] })
    expect(detect(tiny, SEED_DETECTOR, options).verdict.isAnomaly).toBe(true)
    expect(detect(tiny, config({ minVolume: 50 }), options).verdict).toMatchObject({
      isAnomaly: false,
      severity: null,
    })
  })

  it('leaves windows overlapping a labelled period out of the baseline, and only those', () => {
    const h = history(1000)
    // Day windows k = 3 and 4 end at SLOT - 3 d and SLOT - 4 d; a range from inside window 4 to inside window 3.
    const excluded = [{ start: SLOT - 4 * DAY_MS - HOUR_MS, end: SLOT - 3 * DAY_MS - 2 * HOUR_MS }]
    const withLabel = detect({ ...h, excluded }, SEED_DETECTOR, options)
    expect(withLabel.verdict.baseline.samples).toBe(28)
    const kept = h.daily.filter((_, k) => k !== 0 && k !== 3 && k !== 4)
    expect(withLabel.verdict).toEqual(volumeVerdict(1000, kept, options))
    // [SLOT - 1 d, SLOT) only touches window k = 1 (which ends at its start) and covers the current window, never a sample.
    const touching = detect({ ...h, excluded: [{ start: SLOT - DAY_MS, end: SLOT }] }, SEED_DETECTOR, options)
    expect(touching.verdict.baseline.samples).toBe(30)
  })

  it('a labelled outlier no longer masks a later anomaly', () => {
    const flat = history(1000)
    const daily = flat.daily.map((v, k) => (weekend(k) ? v : k === 2 ? 40_000 : v))
    const masked = detect(
      { ...flat, daily: [600, ...daily.slice(1)] },
      config({ baseline: 'daytype' }),
      options,
    )
    expect(masked.verdict.isAnomaly).toBe(false)
    const excluded = [{ start: SLOT - 3 * DAY_MS, end: SLOT - 2 * DAY_MS }]
    const seen = detect(
      { ...flat, daily: [600, ...daily.slice(1)], excluded },
      config({ baseline: 'daytype' }),
      options,
    )
    expect(seen.verdict).toMatchObject({ isAnomaly: true, direction: 'drop' })
  })

  it('gives insufficient data for a new series', () => {
    const detection = detect(
      history(500, { firstHourMs: SLOT - 3 * DAY_MS }),
      config({ windows: ['day', 'hour'] }),
      options,
    )
    expect(detection.verdict.status).toBe('insufficient_data')
  })
})

describe('robustStats', () => {
  it('is the median and 1.4826 x the median absolute deviation', () => {
    expect(robustStats([1, 2, 3, 4, 100])).toEqual({ mean: 3, stddev: 1.4826, samples: 5 })
    expect(robustStats([])).toEqual({ mean: 0, stddev: 0, samples: 0 })
    expect(robustStats([2, 4]).mean).toBe(3)
  })
})
