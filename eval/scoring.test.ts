import { describe, expect, it } from 'vitest'
import { detectionStats, nabScore, PROFILES, probationRows, type SeriesAlerts } from './scoring.js'

// Expected values are computed by hand from the README's formulas, using 2 * sigmoid(x) - 1 = tanh(x / 2):
// - TP at row i of a window [L, R] (width W = R - L + 1): tp * tanh(-5y / 2) / tanh(5 / 2), y = -(R - i + 1) / W.
// - FP at row i after a window ending at R: fp * (2 sigmoid(-5y) - 1) = -fp * tanh(5y / 2), y = (i - R) / (W - 1).

const T0 = Date.UTC(2020, 0, 1)
const MIN = 60_000
const HOUR = 3_600_000

/** 100 rows, one a minute: probation = floor(0.15 * 100) = 15 rows (rows 0..14). */
const ts = Array.from({ length: 100 }, (_, i) => T0 + i * MIN)
const at = (row: number): number => T0 + row * MIN
/** Window covering rows 40..49 (width 10). */
const W40: [number, number] = [at(40), at(49)]

function series(alerts: number[], windows: [number, number][] = [W40], key = 's'): SeriesAlerts {
  return { key, timestamps: ts, windows, alerts }
}

const std = PROFILES.standard

describe('PROFILES', () => {
  it('has the README weights', () => {
    expect(PROFILES.standard).toEqual({ name: 'standard', tp: 1, fp: 0.11, fn: 1 })
    expect(PROFILES.reward_low_fp).toEqual({ name: 'reward_low_fp', tp: 1, fp: 0.22, fn: 1 })
    expect(PROFILES.reward_low_fn).toEqual({ name: 'reward_low_fn', tp: 1, fp: 0.11, fn: 2 })
  })

  it('probation is min(floor(0.15 * rows), 750)', () => {
    expect(probationRows(100)).toBe(15)
    expect(probationRows(337)).toBe(50)
    expect(probationRows(4032)).toBe(604)
    expect(probationRows(15902)).toBe(750)
    expect(probationRows(6)).toBe(0)
  })
})

describe('nabScore: windows', () => {
  it('an alert at the window start scores tp exactly (y = -1): normalised 100', () => {
    const r = nabScore([series([at(40)])], std)
    expect(r.raw).toBeCloseTo(1, 12)
    expect(r.nullScore).toBe(-1)
    expect(r.perfectScore).toBe(1)
    expect(r.normalized).toBeCloseTo(100, 10)
    expect(r.perSeries).toEqual([{ key: 's', raw: r.raw, windows: 1, detected: 1, falsePositives: 0 }])
  })

  it('an alert between rows is placed at the next row: just before the window start still scores tp', () => {
    expect(nabScore([series([at(39) + 1])], std).raw).toBeCloseTo(1, 12)
    // ...and one just after the window's last row lands on row 50, outside: a miss plus an FP.
    expect(nabScore([series([at(49) + 1])], std).raw).toBeCloseTo(-1 - 0.029793183036839352, 12)
  })

  it('never alerting scores -fn per window: normalised 0', () => {
    const r = nabScore([series([])], std)
    expect(r.raw).toBe(-1)
    expect(r.normalized).toBe(0)
  })

  it('an alert at the last row of the window is worth tanh(0.25) / tanh(2.5)', () => {
    // y = -(49 - 49 + 1) / 10 = -0.1
    const r = nabScore([series([at(49)])], std)
    expect(r.raw).toBeCloseTo(0.24824154977542992, 12)
    expect(r.normalized).toBeCloseTo((100 * (0.24824154977542992 + 1)) / 2, 10)
  })

  it('an alert in the middle of the window: y = -0.5, tanh(1.25) / tanh(2.5)', () => {
    expect(nabScore([series([at(45)])], std).raw).toBeCloseTo(0.8597925669097837, 12)
  })

  it('only the first alert in a window counts; later ones (and duplicates) add nothing', () => {
    // first alert at row 42: y = -8 / 10, tanh(2) / tanh(2.5)
    const r = nabScore([series([at(45), at(42), at(45), at(42), at(49)])], std)
    expect(r.raw).toBeCloseTo(0.9771068409226047, 12)
    expect(r.perSeries[0]?.falsePositives).toBe(0)
  })

  it('alerts in the probation period are ignored', () => {
    const r = nabScore([series([at(0), at(5), at(14)])], std)
    expect(r.raw).toBe(-1)
    expect(r.perSeries[0]?.falsePositives).toBe(0)
  })

  it('a window overlapping probation still counts; only its alerts inside probation are ignored', () => {
    // Window rows 10..19, probation rows 0..14. Alert at 12 ignored, alert at 17: y = -(19 - 17 + 1) / 10 = -0.3.
    const w: [number, number] = [at(10), at(19)]
    expect(nabScore([series([at(12)], [w])], std).raw).toBe(-1)
    expect(nabScore([series([at(12), at(17)], [w])], std).raw).toBeCloseTo(0.6437662150014793, 12)
  })

  it('a window covering no row cannot be detected but still costs -fn', () => {
    const w: [number, number] = [at(40) + 1, at(40) + 2]
    const r = nabScore([series([at(40) + 1], [w])], std)
    // The alert lands on row 41, outside the (empty) window, with no previous window: -fp.
    expect(r.raw).toBeCloseTo(-1 - 0.11, 12)
    expect(r.nullScore).toBe(-1)
  })

  it('window bounds between rows map to the first row >= start and the last row <= end', () => {
    // [row 39.5, row 49.5] covers rows 40..49: an alert at row 49 scores as the last row of a width-10 window.
    const w: [number, number] = [at(39) + 30_000, at(49) + 30_000]
    expect(nabScore([series([at(49)], [w])], std).raw).toBeCloseTo(0.24824154977542992, 12)
  })
})

describe('nabScore: false positives', () => {
  it('an FP with no preceding window costs exactly -fp', () => {
    expect(nabScore([series([at(20)])], std).raw).toBeCloseTo(-1 - 0.11, 12)
    expect(nabScore([series([at(20)], [])], std).raw).toBeCloseTo(-0.11, 12)
  })

  it('an FP right after a window costs little: y = 1 / 9, -0.11 * tanh(5 / 18)', () => {
    const r = nabScore([series([at(40), at(50)])], std)
    expect(r.raw).toBeCloseTo(1 - 0.029793183036839352, 12)
    expect(r.perSeries[0]?.falsePositives).toBe(1)
  })

  it('an FP far after a window costs -fp: y = 3 is still the formula, y > 3 is -fp', () => {
    // row 76: y = 27 / 9 = 3, -0.11 * tanh(7.5)
    expect(nabScore([series([at(40), at(76)])], std).raw).toBeCloseTo(1 - 0.10999993270151008, 14)
    // row 77: y = 28 / 9 > 3
    expect(nabScore([series([at(40), at(77)])], std).raw).toBe(1 - 0.11)
    expect(nabScore([series([at(40), at(99)])], std).raw).toBe(1 - 0.11)
  })

  it('FP contributions are never positive, and grow in cost with distance', () => {
    const cost = (row: number): number => nabScore([series([at(row)])], std).raw + 1
    const costs = [50, 55, 60, 70, 80].map(cost)
    for (const c of costs) expect(c).toBeLessThan(0)
    for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeLessThanOrEqual(costs[i - 1] as number)
  })

  it('the previous window is the latest one ending before the alert (its width sets the scale)', () => {
    // Windows rows 20..29 (width 10) and 60..64 (width 5). FP at row 66: y = 2 / 4 = 0.5, -0.11 * tanh(1.25).
    const windows: [number, number][] = [
      [at(60), at(64)],
      [at(20), at(29)],
    ]
    const r = nabScore([series([at(20), at(60), at(66)], windows)], std)
    expect(r.raw).toBeCloseTo(2 - 0.0933112004, 9) // 0.11 * tanh(1.25) = 0.11 * 0.8482836400
  })

  it('two alerts placed on the same row count once', () => {
    const r = nabScore([series([at(20) - 20_000, at(20) - 10_000, at(20)])], std)
    expect(r.raw).toBeCloseTo(-1.11, 12)
    expect(r.perSeries[0]?.falsePositives).toBe(1)
  })

  it('an alert after the last row is dropped', () => {
    expect(nabScore([series([at(99) + 1])], std).raw).toBe(-1)
  })

  it('a previous window of width 1 makes any later FP cost -fp', () => {
    const r = nabScore([series([at(40), at(41)], [[at(40), at(40)]])], std)
    expect(r.raw).toBeCloseTo(1 - 0.11, 12)
  })
})

describe('nabScore: totals and profiles', () => {
  it('sums several series and normalises over all their windows', () => {
    // A: perfect (1). B: no window, one FP (-0.11). C: two windows, one missed (-1), one hit at its last row.
    const c: SeriesAlerts = {
      key: 'c',
      timestamps: ts,
      windows: [
        [at(20), at(29)],
        [at(40), at(49)],
      ],
      alerts: [at(49)],
    }
    const r = nabScore([series([at(40)], [W40], 'a'), series([at(30)], [], 'b'), c], std)
    const expected = 1 - 0.11 - 1 + 0.24824154977542992
    expect(r.raw).toBeCloseTo(expected, 12)
    expect(r.perSeries.map((s) => s.key)).toEqual(['a', 'b', 'c'])
    expect(r.perSeries[1]?.raw).toBeCloseTo(-0.11, 12)
    expect(r.nullScore).toBe(-3)
    expect(r.perfectScore).toBe(3)
    expect(r.normalized).toBeCloseTo((100 * (expected + 3)) / 6, 10)
  })

  it('profiles weigh misses and false alarms differently', () => {
    // A missed window plus an FP with no previous window.
    const s = [series([at(20)])]
    const standard = nabScore(s, PROFILES.standard)
    const lowFp = nabScore(s, PROFILES.reward_low_fp)
    const lowFn = nabScore(s, PROFILES.reward_low_fn)
    expect(standard.raw).toBeCloseTo(-1.11, 12)
    expect(standard.normalized).toBeCloseTo(-5.5, 10) // 100 * (-1.11 + 1) / 2
    expect(lowFp.raw).toBeCloseTo(-1.22, 12)
    expect(lowFp.normalized).toBeCloseTo(-11, 10) // 100 * (-1.22 + 1) / 2
    expect(lowFn.raw).toBeCloseTo(-2.11, 12)
    expect(lowFn.nullScore).toBe(-2)
    expect(lowFn.normalized).toBeCloseTo(-11 / 3, 10) // 100 * (-2.11 + 2) / 3
    // A detection right after a window: the FP cost doubles under reward_low_fp.
    const after = [series([at(40), at(50)])]
    expect(nabScore(after, PROFILES.reward_low_fp).raw).toBeCloseTo(1 - 0.059586366073678704, 12)
    expect(lowFp.profile).toBe('reward_low_fp')
  })

  it('normalised score is NaN with no window at all', () => {
    expect(nabScore([series([at(30)], [])], std).normalized).toBeNaN()
  })

  it('rejects timestamps that are not strictly increasing', () => {
    expect(() => nabScore([{ key: 'x', timestamps: [1, 1], windows: [], alerts: [] }], std)).toThrow(
      /strictly/,
    )
  })
})

describe('detectionStats', () => {
  // 337 hourly rows = 14 days; probation = floor(0.15 * 337) = 50 rows, so rows 50..336 are scored.
  const hourly = Array.from({ length: 337 }, (_, i) => T0 + i * HOUR)
  const h = (row: number): number => T0 + row * HOUR

  it('counts detections on alert times, delays, false alarms and series-weeks', () => {
    const s: SeriesAlerts = {
      key: 'h',
      timestamps: hourly,
      windows: [
        [h(100), h(110)],
        [h(200), h(210)],
        [h(300), h(310)],
      ],
      // 10: probation, ignored. 104 + 30 min and 106: detect window 1 (delay 4.5 h). 250, 251: false alarms.
      // 310: window 3's last instant (delay 10 h). 336 + 1 ms: after the last row, dropped. Window 2 missed.
      alerts: [h(10), h(106), h(104) + 30 * MIN, h(250), h(251), h(251), h(310), h(336) + 1],
    }
    const r = detectionStats([s])
    expect(r.windows).toBe(3)
    expect(r.detected).toBe(2)
    expect(r.falseAlarms).toBe(2)
    expect(r.meanDelayMs).toBe((4.5 * HOUR + 10 * HOUR) / 2)
    expect(r.seriesWeeks).toBeCloseTo((336 - 50) / 168, 12)
    expect(r.falseAlarmsPerSeriesWeek).toBeCloseTo(2 / ((336 - 50) / 168), 12)
  })

  it('uses alert times, not rows: an alert just before a window start is a false alarm here', () => {
    const s: SeriesAlerts = {
      key: 'h',
      timestamps: hourly,
      windows: [[h(100), h(110)]],
      alerts: [h(100) - 1],
    }
    expect(detectionStats([s])).toMatchObject({ detected: 0, falseAlarms: 1, meanDelayMs: null })
    // ...whereas nabScore places it on row 100, the window's first row.
    expect(nabScore([s], std).raw).toBeCloseTo(1, 12)
  })

  it('sums over series; series without windows contribute false alarms and weeks', () => {
    const a: SeriesAlerts = { key: 'a', timestamps: hourly, windows: [[h(100), h(110)]], alerts: [h(100)] }
    const b: SeriesAlerts = { key: 'b', timestamps: hourly, windows: [], alerts: [h(60), h(70), h(20)] }
    const r = detectionStats([a, b])
    expect(r).toMatchObject({ windows: 1, detected: 1, falseAlarms: 2, meanDelayMs: 0 })
    expect(r.seriesWeeks).toBeCloseTo((2 * (336 - 50)) / 168, 12)
  })

  it('empty input', () => {
    expect(detectionStats([])).toEqual({
      windows: 0,
      detected: 0,
      falseAlarms: 0,
      seriesWeeks: 0,
      falseAlarmsPerSeriesWeek: 0,
      meanDelayMs: null,
    })
  })
})
