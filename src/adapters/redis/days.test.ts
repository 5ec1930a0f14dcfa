import { describe, expect, it } from 'vitest'
import {
  dayElement,
  dayFromStored,
  dayIndex,
  EMPTY_DAY_VECTOR,
  escapeKeyPart,
  expiredDays,
  oldestRetainedDay,
  seriesKey,
  slotDays,
  snapToInteger,
  stitchWindow,
  storedVector,
  weekdayOf,
  windowDays,
} from './days.js'

const HOUR = 3_600_000
const day = (y: number, m: number, d: number) => dayIndex(Date.UTC(y, m - 1, d))
const hours = (f: (h: number) => number) => Array.from({ length: 24 }, (_, h) => f(h))

describe('days of a slot', () => {
  it('names days YYYY-MM-DD and gives their UTC weekday', () => {
    const d = day(2026, 11, 25)
    expect(dayElement(d)).toBe('2026-11-25')
    expect(weekdayOf(d)).toBe(new Date(Date.UTC(2026, 10, 25)).getUTCDay())
    expect(weekdayOf(0)).toBe(4) // 1970-01-01, a Thursday
  })

  it('a mid-day slot spans two days; its complete one and the partial one are the recent days', () => {
    const s = slotDays(Date.UTC(2026, 10, 25, 6))
    expect(s).toEqual({ first: day(2026, 11, 24), hour: 6, recent: [day(2026, 11, 24), day(2026, 11, 25)] })
    expect(windowDays(s, 0)).toEqual([day(2026, 11, 24), day(2026, 11, 25)])
    expect(windowDays(s, 2)).toEqual([day(2026, 11, 10), day(2026, 11, 11)])
  })

  it('a slot at 00:00 UTC is exactly the day before', () => {
    const s = slotDays(Date.UTC(2026, 10, 26, 0))
    expect(s).toEqual({ first: day(2026, 11, 25), hour: 0, recent: [day(2026, 11, 24), day(2026, 11, 25)] })
    expect(windowDays(s, 1)).toEqual([day(2026, 11, 18)])
  })

  it('refuses a slot that is not a whole hour', () => {
    expect(() => slotDays(Date.UTC(2026, 10, 26, 0) + 1)).toThrow(RangeError)
  })

  it('stitches the rolling window from the first day from the slot hour and the next day before it', () => {
    const a = hours((h) => h)
    const b = hours((h) => 100 + h)
    expect(stitchWindow(6, [a, b])).toEqual([...a.slice(6), ...b.slice(0, 6)])
    expect(stitchWindow(0, [a])).toEqual(a)
    expect(() => stitchWindow(6, [a])).toThrow(RangeError)
    // The window of a slot equals the hourly values in [slot - 24 h, slot), hour by hour.
    const slot = Date.UTC(2026, 10, 25, 6)
    const s = slotDays(slot)
    const value = (t: number) => t / HOUR
    const dayValues = (d: number) => hours((h) => value(d * 24 * HOUR + h * HOUR))
    const window = stitchWindow(s.hour, windowDays(s, 0).map(dayValues))
    expect(window).toEqual(hours((i) => value(slot - 24 * HOUR + i * HOUR)))
  })
})

describe('keys', () => {
  it('escapes every byte outside [A-Za-z0-9._-], so ids cannot collide or form a hash tag', () => {
    expect(escapeKeyPart('acme-1_x.y')).toBe('acme-1_x.y')
    expect(escapeKeyPart('a:b{c}%')).toBe('a%3Ab%7Bc%7D%25')
    expect(escapeKeyPart('é')).toBe('%C3%A9')
    expect(seriesKey('meterflow:shape:', 'a:b', 'c')).toBe('meterflow:shape:a%3Ab:c')
    expect(seriesKey('meterflow:shape:', 'a', 'b:c')).toBe('meterflow:shape:a:b%3Ac')
    expect(seriesKey('p:', '{tag}', 'm')).not.toMatch(/[{}]/)
  })
})

describe('retention', () => {
  it('keeps retentionWeeks x 7 days up to the newest and sweeps the days just past it', () => {
    const newest = day(2026, 11, 25)
    expect(oldestRetainedDay(newest, 8)).toBe(newest - 55)
    expect(expiredDays(newest, 8, 2)).toEqual([newest - 56, newest - 57])
    expect(expiredDays(newest, 8, 2).map(dayElement)).toEqual(['2026-09-30', '2026-09-29'])
  })
})

describe('stored day vectors', () => {
  it('stores an empty day as a vector no usage can have, and reads it back as zeros', () => {
    const empty = hours(() => 0)
    expect(storedVector(empty)).toBe(EMPTY_DAY_VECTOR)
    expect(dayFromStored([-0.99999994, ...new Array(23).fill(0)])).toEqual(empty)
  })

  it('refuses what Redis cannot hold faithfully (float32 norm overflow, negatives, wrong length)', () => {
    expect(storedVector(hours((h) => (h === 3 ? 2e18 : 1)))).toBeNull()
    expect(storedVector(hours((h) => (h === 3 ? -1 : 1)))).toBeNull()
    expect(storedVector([1, 2, 3])).toBeNull()
    const fine = hours((h) => h * 1e12)
    expect(storedVector(fine)).toBe(fine)
  })

  it('undoes float32 rounding on integers and keeps other values', () => {
    expect(snapToInteger(99.99999237060547)).toBe(100)
    expect(snapToInteger(240.00001525878906)).toBe(240)
    expect(snapToInteger(0.5)).toBe(0.5)
    expect(snapToInteger(12.3456)).toBe(12.3456)
    // What VEMB gives for a NOQUANT day: each value / norm * norm in float32.
    const day = hours((h) => (h >= 9 && h < 17 ? 100 + h : h))
    const norm = Math.fround(Math.sqrt(day.reduce((a, v) => a + v * v, 0)))
    const vemb = day.map((v) => Math.fround(Math.fround(v / norm) * norm))
    expect(vemb).not.toEqual(day)
    expect(dayFromStored(vemb)).toEqual(day)
  })
})
