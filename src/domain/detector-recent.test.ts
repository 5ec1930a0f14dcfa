import { describe, expect, it } from 'vitest'
import { type DetectorConfig, detect, judgeWindows, SEED_DETECTOR, type SeriesHistory } from './detector.js'
import { RECENT_MIN_HOURS, recentSamples } from './recent-window.js'
import { DAY_MS, HOUR_MS } from './time.js'
import { DEFAULT_VOLUME_OPTIONS } from './volume.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const options = { ...DEFAULT_VOLUME_OPTIONS, minRelativeStddev: 0.05 }
const recentOnly = (c: Partial<DetectorConfig> = {}): DetectorConfig => ({
  ...SEED_DETECTOR,
  windows: ['recent'],
  recentThreshold: 5,
  ...c,
})

/**
 * A series `hoursOld` hours old at SLOT whose hour before the slot is `current` and whose earlier hours are `past`
 * (newest first). The daily windows are left empty: only the recent window reads `recent` and `hourly[0]`.
 */
function series(current: number, past: readonly number[], hoursOld = past.length + 1): SeriesHistory {
  return {
    slot: SLOT,
    firstHourMs: SLOT - hoursOld * HOUR_MS,
    daily: [current],
    hourly: [current],
    recent: past,
  }
}
/** Hours alternating 90 and 110: mean 100, stddev 10. */
const wiggle = (n: number) => Array.from({ length: n }, (_, j) => (j % 2 ? 90 : 110))

describe('recentSamples', () => {
  it('takes at most the configured hours, newest first', () => {
    const past = Array.from({ length: 200 }, (_, j) => j)
    expect(recentSamples(series(0, past), 168)).toEqual(past.slice(0, 168))
  })
  it('leaves out hours before the series began: a series that starts mid-history is not compared with zeros', () => {
    const past = [...wiggle(30), ...new Array(100).fill(0)]
    expect(recentSamples(series(0, past, 31), 168)).toEqual(wiggle(30))
  })
  it('leaves out hours overlapping a labelled period', () => {
    const h = {
      ...series(0, [1, 2, 3, 4]),
      excluded: [{ start: SLOT - 3 * HOUR_MS, end: SLOT - 2 * HOUR_MS }],
    }
    // Hour j = 2 is [S - 3 h, S - 2 h): labelled.
    expect(recentSamples(h, 168)).toEqual([1, 3, 4])
  })
  it('is empty when the store returned no hours (a series without the recent read)', () => {
    const { recent: _, ...without } = series(5, wiggle(48))
    expect(recentSamples(without, 168)).toEqual([])
  })
})

describe('the recent window', () => {
  it('fires on the second day of a series, when the day window has no verdict yet', () => {
    const h = { ...series(200, wiggle(30)), daily: [4800, 2400], hourly: [200, 100] }
    const config = recentOnly({ windows: ['day', 'recent'] })
    const [day, recent] = judgeWindows(h, config, options)
    expect(day?.verdict.status).toBe('insufficient_data')
    expect(recent?.verdict).toMatchObject({ status: 'ok', isAnomaly: true, direction: 'spike' })
    expect(recent?.verdict.zScore).toBeCloseTo(10, 9)
    const detection = detect(h, config, options)
    expect(detection).toMatchObject({ window: 'recent', windowStart: SLOT - HOUR_MS, windowEnd: SLOT })
    expect(detection.verdict.baseline.samples).toBe(30)
    expect(detection.verdict.baseline.mean).toBeCloseTo(100, 9)
    expect(detection.verdict.baseline.stddev).toBeCloseTo(10, 9)
  })

  it(`needs ${RECENT_MIN_HOURS} hours of samples for a verdict (short history)`, () => {
    const short = detect(series(1000, wiggle(RECENT_MIN_HOURS - 1)), recentOnly(), options)
    expect(short.verdict).toMatchObject({ status: 'insufficient_data', isAnomaly: false })
    const enough = detect(series(1000, wiggle(RECENT_MIN_HOURS)), recentOnly(), options)
    expect(enough.verdict).toMatchObject({ status: 'ok', isAnomaly: true })
  })

  it('fires at recent_threshold, not at the global threshold', () => {
    // z = 4: above the global 3, below the recent window's 5.
    expect(detect(series(140, wiggle(48)), recentOnly(), options).verdict.isAnomaly).toBe(false)
    expect(detect(series(150, wiggle(48)), recentOnly(), options).verdict).toMatchObject({
      isAnomaly: true,
      severity: 'critical',
    })
    // 0: the global threshold.
    expect(
      detect(series(140, wiggle(48)), recentOnly({ recentThreshold: 0 }), options).verdict.isAnomaly,
    ).toBe(true)
  })

  it('judges a constant series with the stddev floor: a small change is normal, a large one fires', () => {
    const flat = new Array(168).fill(100)
    // Floor: 5% of 100 = 5; z = 4 for 120, 10 for 150.
    expect(detect(series(120, flat), recentOnly(), options).verdict).toMatchObject({
      isAnomaly: false,
      zScore: 4,
    })
    expect(detect(series(150, flat), recentOnly(), options).verdict).toMatchObject({
      isAnomaly: true,
      zScore: 10,
    })
  })

  it('judges zeros against zeros as clean and a drop to zero as critical', () => {
    const zeros = new Array(48).fill(0)
    expect(detect(series(0, zeros), recentOnly(), options).verdict).toMatchObject({
      status: 'ok',
      isAnomaly: false,
      zScore: 0,
    })
    // Absolute floor 1 unit: 3 events after a day of silence is below 5.
    expect(detect(series(3, zeros), recentOnly(), options).verdict.isAnomaly).toBe(false)
    const flat = new Array(48).fill(100)
    expect(detect(series(0, flat), recentOnly(), options).verdict).toMatchObject({
      isAnomaly: true,
      severity: 'critical',
      direction: 'drop',
    })
  })

  it('fires at the start of a level shift and accepts the new level within hours (one incident, not a month)', () => {
    const config = recentOnly({ recentHours: 48 })
    const level = (hoursSinceShift: number) =>
      Array.from({ length: 48 }, (_, j) =>
        j < hoursSinceShift ? 300 + (j % 2 ? -10 : 10) : 100 + (j % 2 ? -10 : 10),
      )
    // The first two hours at the new level fire (z 20, then 6.5)...
    expect(detect(series(300, level(0)), config, options).verdict.zScore).toBeCloseTo(20, 9)
    expect(detect(series(300, level(1)), config, options).verdict.isAnomaly).toBe(true)
    // ...and from the third the shift is part of the baseline: its stddev covers the new level (z 4.8, then less).
    expect(detect(series(300, level(2)), config, options).verdict.isAnomaly).toBe(false)
    expect(detect(series(300, level(12)), config, options).verdict.isAnomaly).toBe(false)
    expect(detect(series(300, level(48)), config, options).verdict).toMatchObject({ isAnomaly: false })
  })

  it('leaves the day and hour windows exactly as without it', () => {
    const h: SeriesHistory = {
      slot: SLOT,
      firstHourMs: SLOT - 40 * DAY_MS,
      daily: [140, ...Array.from({ length: 30 }, (_, k) => (k % 2 ? 90 : 110))],
      hourly: [6, ...Array.from({ length: 30 }, () => 4)],
      recent: wiggle(168),
    }
    const withRecent = judgeWindows(h, { ...SEED_DETECTOR, windows: ['day', 'hour', 'recent'] }, options)
    const without = judgeWindows(h, { ...SEED_DETECTOR, windows: ['day', 'hour'] }, options)
    expect(withRecent.slice(0, 2)).toEqual(without)
  })
})
