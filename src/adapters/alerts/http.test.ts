import { describe, expect, it } from 'vitest'
import { parseRetryAfter, truncate } from './http.js'

describe('truncate', () => {
  it('leaves short text alone and ends cut text in an ellipsis within the limit', () => {
    expect(truncate('short', 10)).toBe('short')
    expect(truncate('abcdefghij', 5)).toBe('abcd…')
  })

  it('never keeps half of a surrogate pair', () => {
    const cut = truncate('abc😀def', 5)
    expect(cut).toBe('abc…')
    expect(truncate('😀😀😀', 4)).toBe('😀…')
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 25, 12)
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0)
  })

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})
