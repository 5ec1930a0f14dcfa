import { describe, expect, it } from 'vitest'
import { parseSchedule, type Schedule, ScheduleExpressionError } from './expression.js'

// Expected dates are worked out by hand from the calendar (checked with `date -u`), never by croner.
const ms = (iso: string) => Date.parse(iso)
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())

/** The next `n` fire times after `fromIso`, as ISO strings. */
function nextN(schedule: Schedule, fromIso: string, n: number): (string | null)[] {
  const out: (string | null)[] = []
  let t: number | null = ms(fromIso)
  for (let i = 0; i < n && t !== null; i++) {
    t = schedule.next(t)
    out.push(iso(t))
  }
  return out
}

describe('rate expressions', () => {
  it('rate(1 hour) fires on the hour, strictly after the reference', () => {
    const s = parseSchedule('rate(1 hour)')
    expect(nextN(s, '2026-03-10T14:23:45.123Z', 2)).toEqual([
      '2026-03-10T15:00:00.000Z',
      '2026-03-10T16:00:00.000Z',
    ])
    expect(iso(s.next(ms('2026-03-10T15:00:00Z')))).toBe('2026-03-10T16:00:00.000Z')
    expect(iso(s.previous(ms('2026-03-10T15:00:00Z')))).toBe('2026-03-10T15:00:00.000Z')
    expect(iso(s.previous(ms('2026-03-10T14:59:59.999Z')))).toBe('2026-03-10T14:00:00.000Z')
    expect(s.describe()).toBe('every hour (UTC, aligned to the epoch)')
  })

  it('rate(15 minutes) fires at :00/:15/:30/:45', () => {
    const s = parseSchedule('rate(15 minutes)')
    expect(nextN(s, '2026-03-10T10:37:00Z', 3)).toEqual([
      '2026-03-10T10:45:00.000Z',
      '2026-03-10T11:00:00.000Z',
      '2026-03-10T11:15:00.000Z',
    ])
  })

  it('rate(1 day) fires at 00:00 UTC and rate(2 hours) on even hours', () => {
    expect(iso(parseSchedule('rate(1 day)').next(ms('2026-03-10T10:00:00Z')))).toBe(
      '2026-03-11T00:00:00.000Z',
    )
    expect(iso(parseSchedule('rate(1 day)').previous(ms('2026-03-10T23:59:59Z')))).toBe(
      '2026-03-10T00:00:00.000Z',
    )
    expect(nextN(parseSchedule('rate(2 hours)'), '2026-03-10T09:10:00Z', 2)).toEqual([
      '2026-03-10T10:00:00.000Z',
      '2026-03-10T12:00:00.000Z',
    ])
  })

  it.each([
    ['rate(0 hours)', 'positive whole number'],
    ['rate(1 hours)', "singular unit: 'rate(1 hour)'"],
    ['rate(2 hour)', "plural unit: 'rate(2 hours)'"],
    ['rate(1.5 hours)', 'positive whole number'],
    ['rate(-1 hour)', 'positive whole number'],
    ['rate(5 weeks)', "unknown rate unit 'weeks'"],
    ['rate(2 constructors)', "unknown rate unit 'constructors'"],
    ['rate(hour)', "rate expects 'rate(value unit)'"],
    ['rate()', "rate expects 'rate(value unit)'"],
  ])('rejects %s', (expression, reason) => {
    expect(() => parseSchedule(expression)).toThrow(ScheduleExpressionError)
    expect(() => parseSchedule(expression)).toThrow(reason)
  })
})

describe('cron expressions (UTC)', () => {
  it('cron(0 * * * ? *) is hourly on the hour, not every minute', () => {
    const s = parseSchedule('cron(0 * * * ? *)')
    expect(nextN(s, '2026-03-10T14:23:45Z', 3)).toEqual([
      '2026-03-10T15:00:00.000Z',
      '2026-03-10T16:00:00.000Z',
      '2026-03-10T17:00:00.000Z',
    ])
    expect(iso(s.next(ms('2026-03-10T15:00:00Z')))).toBe('2026-03-10T16:00:00.000Z')
  })

  it('cron(15 10 ? * 6L 2027) fires on the last Friday of each month of 2027 only', () => {
    const s = parseSchedule('cron(15 10 ? * 6L 2027)')
    const days = [
      '01-29',
      '02-26',
      '03-26',
      '04-30',
      '05-28',
      '06-25',
      '07-30',
      '08-27',
      '09-24',
      '10-29',
      '11-26',
    ]
    expect(nextN(s, '2026-06-01T00:00:00Z', 13)).toEqual([
      ...days.map((d) => `2027-${d}T10:15:00.000Z`),
      '2027-12-31T10:15:00.000Z',
      null,
    ])
    expect(iso(s.previous(ms('2030-01-01T00:00:00Z')))).toBe('2027-12-31T10:15:00.000Z')
    expect(s.previous(ms('2027-01-29T10:14:59Z'))).toBeNull()
  })

  it('cron(0 18 ? * MON-FRI *) fires on weekdays at 18:00', () => {
    const s = parseSchedule('cron(0 18 ? * MON-FRI *)')
    // 2026-03-06 is a Friday.
    expect(nextN(s, '2026-03-06T17:59:00Z', 3)).toEqual([
      '2026-03-06T18:00:00.000Z',
      '2026-03-09T18:00:00.000Z',
      '2026-03-10T18:00:00.000Z',
    ])
    expect(iso(s.previous(ms('2026-03-08T12:00:00Z')))).toBe('2026-03-06T18:00:00.000Z')
  })

  it('cron(0 8 1 * ? *) fires on the 1st of each month at 08:00', () => {
    const s = parseSchedule('cron(0 8 1 * ? *)')
    expect(nextN(s, '2026-01-01T08:00:00Z', 2)).toEqual([
      '2026-02-01T08:00:00.000Z',
      '2026-03-01T08:00:00.000Z',
    ])
    expect(iso(s.next(ms('2026-12-15T00:00:00Z')))).toBe('2027-01-01T08:00:00.000Z')
    expect(iso(s.previous(ms('2026-03-01T07:59:59Z')))).toBe('2026-02-01T08:00:00.000Z')
    expect(iso(s.previous(ms('2026-03-01T08:00:00Z')))).toBe('2026-03-01T08:00:00.000Z')
  })

  it('cron(0/15 * * * ? *) and cron(1/10 ...) step from their start', () => {
    const s = parseSchedule('cron(0/15 * * * ? *)')
    expect(nextN(s, '2026-03-10T10:07:00Z', 4)).toEqual([
      '2026-03-10T10:15:00.000Z',
      '2026-03-10T10:30:00.000Z',
      '2026-03-10T10:45:00.000Z',
      '2026-03-10T11:00:00.000Z',
    ])
    expect(iso(s.previous(ms('2026-03-10T10:14:59Z')))).toBe('2026-03-10T10:00:00.000Z')
    expect(nextN(parseSchedule('cron(1/10 * * * ? *)'), '2026-03-10T10:51:00Z', 2)).toEqual([
      '2026-03-10T11:01:00.000Z',
      '2026-03-10T11:11:00.000Z',
    ])
  })

  it('cron(0 9 ? * 2#1 *) fires on the first Monday (AWS 2 = Monday)', () => {
    expect(nextN(parseSchedule('cron(0 9 ? * 2#1 *)'), '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-05T09:00:00.000Z',
      '2026-02-02T09:00:00.000Z',
      '2026-03-02T09:00:00.000Z',
      '2026-04-06T09:00:00.000Z',
    ])
  })

  it('cron(0 0 L * ? *) fires on the last day of the month, including leap Februaries', () => {
    const s = parseSchedule('cron(0 0 L * ? *)')
    expect(nextN(s, '2027-01-31T00:00:00Z', 3)).toEqual([
      '2027-02-28T00:00:00.000Z',
      '2027-03-31T00:00:00.000Z',
      '2027-04-30T00:00:00.000Z',
    ])
    expect(iso(s.next(ms('2028-02-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z')
  })

  it('cron(0 12 15W * ? *) moves a Saturday 15th to Friday and a Sunday 15th to Monday', () => {
    const s = parseSchedule('cron(0 12 15W * ? *)')
    // 2026-08-15 is a Saturday -> Friday 14th; 2026-11-15 is a Sunday -> Monday 16th.
    expect(iso(s.next(ms('2026-08-01T00:00:00Z')))).toBe('2026-08-14T12:00:00.000Z')
    expect(iso(s.next(ms('2026-11-01T00:00:00Z')))).toBe('2026-11-16T12:00:00.000Z')
    // 2026-05-15 is a Friday: unchanged.
    expect(iso(s.next(ms('2026-05-01T00:00:00Z')))).toBe('2026-05-15T12:00:00.000Z')
  })

  it('numbers weekdays 1-7 from Sunday: cron(0 0 ? * 1 *) fires on Sundays, L on Saturdays', () => {
    // 2026-01-04 is a Sunday, 2026-01-03 a Saturday.
    expect(nextN(parseSchedule('cron(0 0 ? * 1 *)'), '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-04T00:00:00.000Z',
      '2026-01-11T00:00:00.000Z',
    ])
    expect(iso(parseSchedule('cron(0 0 ? * SUN *)').next(ms('2026-01-01T00:00:00Z')))).toBe(
      '2026-01-04T00:00:00.000Z',
    )
    expect(iso(parseSchedule('cron(0 0 ? * L *)').next(ms('2026-01-01T00:00:00Z')))).toBe(
      '2026-01-03T00:00:00.000Z',
    )
  })

  it('accepts month names, lists and year ranges', () => {
    const s = parseSchedule('cron(30 6,18 1 jan-feb,DEC ? 2026-2027)')
    expect(nextN(s, '2026-01-01T07:00:00Z', 3)).toEqual([
      '2026-01-01T18:30:00.000Z',
      '2026-02-01T06:30:00.000Z',
      '2026-02-01T18:30:00.000Z',
    ])
    expect(s.describe()).toBe('cron(30 6,18 1 JAN-FEB,DEC ? 2026-2027) in UTC')
  })

  it.each([
    ['cron(0 * * * ?)', 'exactly 6 fields'],
    ['cron(0 0 * * * ? *)', 'exactly 6 fields'],
    ['cron()', 'got 0'],
    ['cron(0 0 ? * ? *)', "exactly one of day-of-month and day-of-week must be '?'"],
    ['cron(0 0 * * * *)', "exactly one of day-of-month and day-of-week must be '?'"],
    ['cron(0 0 1 * MON *)', "exactly one of day-of-month and day-of-week must be '?'"],
    ['cron(60 * * * ? *)', 'minutes: 60 is outside 0-59'],
    ['cron(0 24 * * ? *)', 'hours: 24 is outside 0-23'],
    ['cron(0 0 32 * ? *)', 'day-of-month: 32 is outside 1-31'],
    ['cron(0 0 ? 13 1 *)', 'month: 13 is outside 1-12'],
    ['cron(0 0 ? * 0 *)', 'day-of-week: 0 is outside 1-7'],
    ['cron(0 0 ? * 8 *)', 'day-of-week: 8 is outside 1-7'],
    ['cron(0 0 * * ? 1969)', 'year: 1969 is outside 1970-2199'],
    ['cron(0 0 * * ? 2200)', 'year: 2200 is outside 1970-2199'],
    ['cron(0 20-10 * * ? *)', "range '20-10' runs backwards"],
    ['cron(0 0 ? * FRI-MON *)', "range 'FRI-MON' runs backwards"],
    ['cron(0/0 * * * ? *)', "increment '0'"],
    ['cron(0 0 ? * 1/2 *)', "increments ('/') are not allowed"],
    ['cron(0 0 ? * 2#6 *)', 'instance must be 1-5'],
    ['cron(0 0 ? * 2#1,3#2 *)', "'#' allows exactly one expression"],
    ['cron(0 0 1,15W * ? *)', 'must stand alone'],
    ['cron(0 0 ? FOO 1 *)', "month: 'FOO' is not a valid value"],
    ['cron(a b c d ? f)', "minutes: 'A' is not a valid value"],
    ['cron(0 0 31 2 ? *)', 'never fires'],
    ['cron(0 0 29 FEB ? 2027)', 'never fires'],
    ['cron(0 ? * * ? *)', "hours: '?' is only allowed in the day fields"],
    ['0 * * * ? *', "expected 'rate(value unit)' or 'cron(fields)'"],
    ['every hour', "expected 'rate(value unit)' or 'cron(fields)'"],
    ['', "expected 'rate(value unit)' or 'cron(fields)'"],
  ])('rejects %s', (expression, reason) => {
    let error: unknown
    try {
      parseSchedule(expression)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ScheduleExpressionError)
    const e = error as ScheduleExpressionError
    expect(e.expression).toBe(expression)
    expect(e.message).toContain(`Invalid schedule expression '${expression}'`)
    expect(e.message).toContain(reason)
  })
})
