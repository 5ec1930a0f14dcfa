import { describe, expect, it } from 'vitest'
import { BOUNDS } from '../domain/limits.js'
import { numberOption } from './options.js'

describe('numeric CLI options', () => {
  const threshold = numberOption(BOUNDS.threshold)
  const days = numberOption(BOUNDS.baselineDays)

  it('parses plain decimals inside the range', () => {
    expect(threshold('3')).toBe(3)
    expect(threshold('2.5')).toBe(2.5)
    expect(threshold('1e3')).toBe(1000)
    expect(days(' 30 ')).toBe(30)
  })

  it('refuses what Number() would let through', () => {
    for (const text of ['1e309', 'Infinity', 'NaN', '', ' ', '0x10', '0b1', '1_000', '-0', '0']) {
      expect(() => threshold(text), JSON.stringify(text)).toThrow('must be a number > 0 and <= 1000000')
    }
    for (const text of ['1.5', '366', '0', '1e309']) {
      expect(() => days(text), text).toThrow('must be an integer in 1..365')
    }
  })
})
