import { describe, expect, it } from 'vitest'
import { type DetectorConfig, SEED_DETECTOR } from '../domain/detector.js'
import { windowReadsNeeded } from './window-reads.js'

const d = (c: Partial<DetectorConfig>): DetectorConfig => ({ ...SEED_DETECTOR, ...c })
const recentHoursNeeded = (...args: Parameters<typeof windowReadsNeeded>) =>
  windowReadsNeeded(...args).recentHours
const hourWindowNeeded = (...args: Parameters<typeof windowReadsNeeded>) =>
  windowReadsNeeded(...args).hourWindow

describe('windowReadsNeeded: the recent hours the job asks the store for', () => {
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

describe("windowReadsNeeded: whether the job asks for each day's hour (the hour window)", () => {
  it('is false when no detector uses the hour window, the default detector included', () => {
    expect(hourWindowNeeded([d({ windows: ['day', 'recent'] }), d({ windows: ['day'] })], [])).toBe(false)
    expect(hourWindowNeeded([], [{ windows: ['hour'] }])).toBe(false)
  })
  it("is true when one metric's detector uses it", () => {
    expect(hourWindowNeeded([d({ windows: ['day'] }), d({ windows: ['day', 'hour'] })], [])).toBe(true)
  })
  it("counts a customer's override that switches it on, and not one that switches it off", () => {
    expect(hourWindowNeeded([d({ windows: ['day'] })], [{ persistRuns: 2 }, { windows: ['hour'] }])).toBe(
      true,
    )
    expect(hourWindowNeeded([d({ windows: ['day', 'hour'] })], [{ windows: ['day'] }])).toBe(true)
  })
})
