import { describe, expect, it } from 'vitest'
import { BOUNDS, inRange, rangeReason } from './limits.js'

describe('number bounds', () => {
  it('takes only finite numbers inside the range', () => {
    expect(inRange(30, BOUNDS.baselineDays)).toBe(true)
    expect(inRange(365, BOUNDS.baselineDays)).toBe(true)
    for (const n of [0, 366, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(inRange(n, BOUNDS.baselineDays), String(n)).toBe(false)
    }
  })

  it('keeps an exclusive minimum exclusive', () => {
    expect(inRange(0, BOUNDS.threshold)).toBe(false)
    expect(inRange(-0, BOUNDS.threshold)).toBe(false)
    expect(inRange(1e-9, BOUNDS.threshold)).toBe(true)
    expect(inRange(1e6, BOUNDS.threshold)).toBe(true)
    expect(inRange(1e6 + 1, BOUNDS.threshold)).toBe(false)
  })

  it('says the range in its reason', () => {
    expect(rangeReason(BOUNDS.baselineDays)).toBe('must be an integer in 1..365')
    expect(rangeReason(BOUNDS.threshold)).toBe('must be a number > 0 and <= 1000000')
  })

  it('declares every bound finite', () => {
    for (const [name, range] of Object.entries(BOUNDS)) {
      expect(Number.isFinite(range.min) && Number.isFinite(range.max), name).toBe(true)
      expect(range.min, name).toBeLessThan(range.max)
    }
  })
})
