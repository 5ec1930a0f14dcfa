import { describe, expect, it } from 'vitest'
import { isFutureSlot, slotProblem } from './run.js'

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 10, 25, 12, 20)

describe('the slot of a run', () => {
  it('may be the current hour or any earlier one', () => {
    expect(slotProblem(Date.UTC(2026, 10, 25, 12), NOW)).toBeNull()
    expect(slotProblem(NOW, NOW)).toBeNull()
    expect(slotProblem(Date.UTC(2026, 10, 25, 12, 59, 59, 999), NOW)).toBeNull()
    expect(slotProblem(Date.UTC(2000, 0, 1), NOW)).toBeNull()
  })

  it('may not lie beyond the current hour', () => {
    for (const slot of [Date.UTC(2026, 10, 25, 13), Date.UTC(2099, 0, 1), Date.UTC(9999, 11, 31)]) {
      expect(slotProblem(slot, NOW)).toBe('must not lie beyond the current hour (2026-11-25T12:00:00.000Z)')
      expect(isFutureSlot(slot, NOW)).toBe(true)
    }
    expect(isFutureSlot(NOW + HOUR / 2, NOW)).toBe(false)
  })

  it('is a real time', () => {
    expect(slotProblem(Number.POSITIVE_INFINITY, NOW)).toBe('must be a finite time')
    expect(slotProblem(Number.NaN, NOW)).toBe('must be a finite time')
    expect(slotProblem(Date.UTC(1999, 11, 31), NOW)).toBe('must not be before 2000-01-01')
  })
})
