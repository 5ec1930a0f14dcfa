import { describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS } from './time.js'
import { baselineWindows, samplesSince } from './windows.js'

const t0 = Date.UTC(2026, 2, 29, 12) // a European DST change day: UTC windows must not care

describe('baselineWindows', () => {
  it('shifts a 24h window back by whole days, 30 of them in 30 days', () => {
    const windows = baselineWindows({ startMs: t0 - DAY_MS, endMs: t0 }, 30)
    expect(windows).toHaveLength(30)
    expect(windows[0]).toEqual({ startMs: t0 - 2 * DAY_MS, endMs: t0 - DAY_MS })
    expect(windows[29]).toEqual({ startMs: t0 - 31 * DAY_MS, endMs: t0 - 30 * DAY_MS })
    for (const w of windows) expect(w.endMs - w.startMs).toBe(DAY_MS)
  })

  it('compares a 1-hour window with the same hour on previous days', () => {
    const windows = baselineWindows({ startMs: t0, endMs: t0 + HOUR_MS }, 7)
    expect(windows).toHaveLength(7)
    expect(windows.map((w) => (w.startMs - t0) / DAY_MS)).toEqual([-1, -2, -3, -4, -5, -6, -7])
  })

  it('steps a window longer than a day by its length rounded up to whole days', () => {
    const windows = baselineWindows({ startMs: t0, endMs: t0 + 36 * HOUR_MS }, 30)
    expect(windows).toHaveLength(15)
    expect(windows[0]?.startMs).toBe(t0 - 2 * DAY_MS)
  })

  it('never lets a sample overlap the current window or another sample', () => {
    for (const hours of [1, 5, 23, 24, 25, 48, 100]) {
      const current = { startMs: t0, endMs: t0 + hours * HOUR_MS }
      const all = [current, ...baselineWindows(current, 60)]
      for (let i = 1; i < all.length; i++) {
        expect(all[i]?.endMs).toBeLessThanOrEqual(all[i - 1]?.startMs ?? 0)
      }
    }
  })

  it('has no samples when the window is longer than the baseline', () => {
    expect(baselineWindows({ startMs: t0, endMs: t0 + 40 * DAY_MS }, 30)).toEqual([])
  })

  it('has exact UTC day steps across DST dates', () => {
    const windows = baselineWindows({ startMs: t0, endMs: t0 + DAY_MS }, 3)
    for (const w of windows) expect(new Date(w.startMs).getUTCHours()).toBe(12)
  })
})

describe('samplesSince', () => {
  const windows = baselineWindows({ startMs: t0 - DAY_MS, endMs: t0 }, 30)

  it('drops samples from before the first hour', () => {
    const kept = samplesSince(windows, t0 - 5 * DAY_MS)
    expect(kept).toHaveLength(4)
    expect(kept.every((w) => w.startMs >= t0 - 5 * DAY_MS)).toBe(true)
  })

  it('keeps none for a series with no events', () => {
    expect(samplesSince(windows, null)).toEqual([])
  })
})
