import { describe, expect, it } from 'vitest'
import { parseTimestamp } from './time.js'

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
