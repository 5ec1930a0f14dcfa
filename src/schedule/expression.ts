import { Cron } from 'croner'

/** A parsed EventBridge schedule expression, evaluated in UTC. All times are epoch milliseconds. */
export interface Schedule {
  expression: string
  /** First fire time strictly after `afterMs`, or null if the schedule never fires again. */
  next(afterMs: number): number | null
  /** Latest fire time at or before `atOrBeforeMs`, or null if it never fired that early. */
  previous(atOrBeforeMs: number): number | null
  describe(): string
}

export class ScheduleExpressionError extends Error {
  readonly reason: string

  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`Invalid schedule expression '${expression}': ${reason}`)
    this.name = 'ScheduleExpressionError'
    this.reason = reason
  }
}

/** Parses `rate(...)` or `cron(...)` as EventBridge accepts them; throws ScheduleExpressionError. */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim()
  const rate = /^rate\((.*)\)$/s.exec(text)
  if (rate) return parseRate(expression, rate[1] ?? '')
  const cron = /^cron\((.*)\)$/s.exec(text)
  if (cron) return parseCron(expression, cron[1] ?? '')
  throw new ScheduleExpressionError(expression, "expected 'rate(value unit)' or 'cron(fields)'")
}

const MINUTE_MS = 60_000
const UNIT_MS = new Map([
  ['minute', MINUTE_MS],
  ['hour', 60 * MINUTE_MS],
  ['day', 24 * 60 * MINUTE_MS],
])

function parseRate(expression: string, body: string): Schedule {
  const fail = (reason: string): never => {
    throw new ScheduleExpressionError(expression, reason)
  }
  const parts = body.trim().split(/\s+/)
  if (parts.length !== 2) fail("rate expects 'rate(value unit)', e.g. 'rate(1 hour)' or 'rate(15 minutes)'")
  const [value = '', unit = ''] = parts
  if (!/^\d+$/.test(value)) fail(`rate value '${value}' must be a positive whole number`)
  const n = Number(value)
  if (n === 0 || !Number.isSafeInteger(n)) fail(`rate value '${value}' must be a positive whole number`)
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit
  const unitMs = UNIT_MS.get(singular)
  if (unitMs === undefined) fail(`unknown rate unit '${unit}' (use minute(s), hour(s) or day(s))`)
  if (n === 1 && singular !== unit) fail(`a rate of 1 takes the singular unit: 'rate(1 ${singular})'`)
  if (n > 1 && singular === unit) fail(`a rate above 1 takes the plural unit: 'rate(${n} ${unit}s)'`)
  const periodMs = n * (unitMs as number)
  // EventBridge counts a rate from the time the rule was created. This local scheduler instead aligns
  // fire times to multiples of the period since the UTC epoch, so slots are stable across restarts:
  // rate(1 hour) fires on the hour, rate(15 minutes) at :00/:15/:30/:45, rate(1 day) at 00:00 UTC.
  return {
    expression,
    next: (afterMs) => (Math.floor(afterMs / periodMs) + 1) * periodMs,
    previous: (atOrBeforeMs) => Math.floor(atOrBeforeMs / periodMs) * periodMs,
    describe: () => `every ${n === 1 ? singular : `${n} ${unit}`} (UTC, aligned to the epoch)`,
  }
}

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: readonly string[] // names[i] stands for min + i
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 }
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 }
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 }
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES }
// AWS numbers weekdays 1-7 with 1 = Sunday (Quartz style); croner's `alternativeWeekdays` does the same.
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
}
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 }

class FieldError extends Error {}

function value(spec: FieldSpec, token: string): number {
  const index = spec.names?.indexOf(token) ?? -1
  if (index >= 0) return spec.min + index
  if (!/^\d+$/.test(token)) throw new FieldError(`${spec.name}: '${token}' is not a valid value`)
  const n = Number(token)
  if (n < spec.min || n > spec.max) {
    throw new FieldError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`)
  }
  return n
}

/**
 * One comma-separated item: `*`, `v`, `a-b`, and with `withStep` also `* /s`, `a/s`, `a-b/s`.
 * Returns croner syntax with numbers only; `a/s` becomes `a-max/s` (croner wants an explicit range).
 */
function item(spec: FieldSpec, token: string, withStep: boolean): string {
  const [base = '', step, extra] = token.split('/')
  if (extra !== undefined) throw new FieldError(`${spec.name}: '${token}' has more than one '/'`)
  let range: string
  if (base === '*') range = step === undefined ? '*' : `${spec.min}-${spec.max}`
  else if (base.includes('-')) {
    const [from = '', to = '', more] = base.split('-')
    if (more !== undefined) throw new FieldError(`${spec.name}: '${token}' is not a valid range`)
    const a = value(spec, from)
    const b = value(spec, to)
    if (a > b) {
      throw new FieldError(
        `${spec.name}: range '${base}' runs backwards (wrap-around ranges are not supported)`,
      )
    }
    range = `${a}-${b}`
  } else {
    const a = value(spec, base)
    range = step === undefined ? `${a}` : `${a}-${spec.max}`
  }
  if (step === undefined) return range
  if (!withStep) throw new FieldError(`${spec.name}: increments ('/') are not allowed in this field`)
  if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > spec.max - spec.min + 1) {
    throw new FieldError(
      `${spec.name}: increment '${step}' must be a whole number 1-${spec.max - spec.min + 1}`,
    )
  }
  return `${range}/${Number(step)}`
}

function list(spec: FieldSpec, field: string, withStep = true): string {
  return field
    .split(',')
    .map((token) => item(spec, token, withStep))
    .join(',')
}

function dayOfMonth(field: string): string {
  if (field === 'L' || field === 'LW') return field
  const nearest = /^(\d+)W$/.exec(field)
  if (nearest) return `${value(DAY_OF_MONTH, nearest[1] ?? '')}W`
  if (/[LW]/.test(field)) {
    throw new FieldError(`day-of-month: '${field}' — L, LW and nW (e.g. 15W) must stand alone`)
  }
  return list(DAY_OF_MONTH, field)
}

function dayOfWeek(field: string): string {
  // A bare L is the last day of the week, Saturday (7), as in Quartz.
  if (field === 'L') return '7'
  const last = /^(\w+)L$/.exec(field)
  if (last) return `${value(DAY_OF_WEEK, last[1] ?? '')}L`
  const nth = /^(\w+)#(\w+)$/.exec(field)
  if (nth) {
    const [, day = '', n = ''] = nth
    if (!/^[1-5]$/.test(n)) throw new FieldError(`day-of-week: in '${field}' the instance must be 1-5`)
    return `${value(DAY_OF_WEEK, day)}#${n}`
  }
  if (field.includes('#')) {
    throw new FieldError(`day-of-week: '${field}' — '#' allows exactly one expression, e.g. '3#2'`)
  }
  if (field.includes('L')) throw new FieldError(`day-of-week: '${field}' — L must stand alone or as nL`)
  return list(DAY_OF_WEEK, field, false)
}

function parseCron(expression: string, body: string): Schedule {
  const fields = body.trim().toUpperCase().split(/\s+/)
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      expression,
      `cron needs exactly 6 fields (minutes hours day-of-month month day-of-week year), got ${body.trim() === '' ? 0 : fields.length}`,
    )
  }
  const [min = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError(
      expression,
      "exactly one of day-of-month and day-of-week must be '?' (specify one, use '?' in the other)",
    )
  }
  for (const [spec, field] of [
    [MINUTES, min],
    [HOURS, hour],
    [MONTH, month],
    [YEAR, year],
  ] as const) {
    if (field.includes('?')) {
      throw new ScheduleExpressionError(expression, `${spec.name}: '?' is only allowed in the day fields`)
    }
  }
  let pattern: string
  try {
    pattern = [
      '0', // croner's seconds field: always fire on the minute
      list(MINUTES, min),
      list(HOURS, hour),
      dom === '?' ? '*' : dayOfMonth(dom),
      list(MONTH, month),
      dow === '?' ? '*' : dayOfWeek(dow),
      list(YEAR, year),
    ].join(' ')
  } catch (err) {
    if (err instanceof FieldError) throw new ScheduleExpressionError(expression, err.message)
    throw err
  }
  let cron: Cron
  try {
    // Always the explicit 7-part form (seconds first, year last): croner would read the raw 6 AWS
    // fields as seconds-first and fire every minute instead of hourly. One day field is always `*`,
    // so AND-combining day-of-month and day-of-week simply selects the other one.
    cron = new Cron(pattern, { mode: '7-part', alternativeWeekdays: true, timezone: 'UTC', domAndDow: true })
  } catch (err) {
    throw new ScheduleExpressionError(expression, err instanceof Error ? err.message : String(err))
  }
  // AWS years start at 1970: a pattern with no fire time from then on (e.g. 31 February) is a mistake.
  if (cron.nextRun(new Date(-1)) === null) {
    throw new ScheduleExpressionError(
      expression,
      'the expression never fires (no matching date in 1970-2199)',
    )
  }
  return {
    expression,
    next(afterMs) {
      return cron.nextRun(new Date(afterMs))?.getTime() ?? null
    },
    previous(atOrBeforeMs) {
      // previousRuns() excludes a run exactly at the reference; fire times are whole minutes, so
      // looking from 1 ms later includes a run at `atOrBeforeMs` and nothing after it.
      return cron.previousRuns(1, new Date(atOrBeforeMs + 1))[0]?.getTime() ?? null
    },
    describe: () => `cron(${fields.join(' ')}) in UTC`,
  }
}
