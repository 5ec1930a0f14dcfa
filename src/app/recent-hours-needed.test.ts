import { describe, expect, it } from 'vitest'
import { type DetectorConfig, SEED_DETECTOR } from '../domain/detector.js'
import { recentHoursNeeded } from './evaluate-range.js'

const d = (c: Partial<DetectorConfig>): DetectorConfig => ({ ...SEED_DETECTOR, ...c })

describe('recentHoursNeeded (whether the job asks the store for the recent hours)', () => {
  it('is 0 when no detector uses the recent window: the store reads nothing more', () => {
    expect(recentHoursNeeded([d({}), d({ windows: ['day', 'hour'], recentHours: 500 })], [])).toBe(0)
    expect(recentHoursNeeded([], [{ windows: ['recent'] }])).toBe(0)
  })
  it("is the longest recent baseline among the metrics' detectors", () => {
    const detectors = [d({ windows: ['day', 'recent'], recentHours: 72 }), d({ windows: ['recent'] })]
    expect(recentHoursNeeded(detectors, [])).toBe(168)
  })
  it("counts a customer's override that switches the window on or lengthens it", () => {
    expect(recentHoursNeeded([d({})], [{ windows: ['day', 'recent'] }])).toBe(168)
    expect(recentHoursNeeded([d({ windows: ['recent'] })], [{ recentHours: 336 }, { persistRuns: 2 }])).toBe(
      336,
    )
    // An override that switches it off does not lower what the others need.
    expect(recentHoursNeeded([d({ windows: ['recent'], recentHours: 48 })], [{ windows: ['day'] }])).toBe(48)
  })
})
