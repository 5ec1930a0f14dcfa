import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { overlapsAny, parseTimestamp, utcWeekday } from './time.js'

const ms = (text: unknown) => {
  const r = parseTimestamp(text)
  return r.ok ? r.ms : r.reason
}

describe('parseTimestamp', () => {
  it('reads ISO 8601 in UTC and with offsets', () => {
    expect(ms('2026-11-20T12:00:00Z')).toBe(Date.UTC(2026, 10, 20, 12))
    expect(ms('2026-11-20T12:00:00.123Z')).toBe(Date.UTC(2026, 10, 20, 12, 0, 0, 123))
    expect(ms('2026-11-20T14:30:00+02:30')).toBe(Date.UTC(2026, 10, 20, 12))
    expect(ms('2026-11-20T07:00:00-0500')).toBe(Date.UTC(2026, 10, 20, 12))
  })

  it('treats a timestamp without offset as UTC, whatever the machine zone', () => {
    expect(ms('2026-03-29 02:30:00')).toBe(Date.UTC(2026, 2, 29, 2, 30))
    expect(ms('2026-03-29')).toBe(Date.UTC(2026, 2, 29))
  })

  it('reads epoch milliseconds as a number or a digit string', () => {
    expect(ms(1_763_640_000_000)).toBe(1_763_640_000_000)
    expect(ms('1763640000000')).toBe(1_763_640_000_000)
  })

  it('rejects epoch seconds with a hint', () => {
    expect(ms(1_763_640_000)).toMatch(/epoch seconds/)
  })

  it('rejects impossible dates and garbage', () => {
    expect(ms('2026-02-30T00:00:00Z')).toMatch(/not a valid calendar/)
    expect(ms('2026-01-01T24:00:00Z')).toMatch(/not a valid calendar/)
    expect(ms('yesterday')).toMatch(/not an ISO 8601/)
    expect(ms(1.5)).toMatch(/integer/)
    expect(ms(Number.NaN)).toMatch(/integer/)
    expect(ms(null)).toMatch(/must be/)
  })
})

describe('utcWeekday', () => {
  it('is Date.getUTCDay for any time, before 1970 and around midnight included', () => {
    const range = 8.64e15
    fc.assert(
      fc.property(fc.integer({ min: -range, max: range }), (ms) => {
        expect(utcWeekday(ms)).toBe(new Date(ms).getUTCDay())
      }),
      { numRuns: 5_000 },
    )
    for (const ms of [
      0,
      -1,
      86_399_999,
      86_400_000,
      -86_400_000,
      -86_400_001,
      Date.UTC(2026, 10, 29, 23, 59),
    ])
      expect(utcWeekday(ms)).toBe(new Date(ms).getUTCDay())
  })
})

describe('overlapsAny', () => {
  it('treats periods and the window as half-open', () => {
    const periods = [{ start: 10, end: 20 }]
    expect(overlapsAny(periods, 0, 10)).toBe(false)
    expect(overlapsAny(periods, 20, 30)).toBe(false)
    expect(overlapsAny(periods, 19, 30)).toBe(true)
    expect(overlapsAny(periods, 0, 11)).toBe(true)
    expect(overlapsAny([], 0, 100)).toBe(false)
    expect(overlapsAny([{ start: 50, end: 60 }, ...periods], 12, 13)).toBe(true)
  })
})
