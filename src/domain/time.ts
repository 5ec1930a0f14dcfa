export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

/** Earliest instant MeterFlow accepts; anything older is almost always epoch seconds sent as ms. */
/** The UTC day of the week of day `day` since the epoch (0 = Sunday .. 6 = Saturday): 1970-01-01 was a Thursday. */
export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7
}

/** The UTC day of the week of `ms` (0 = Sunday), as Date's getUTCDay, without a Date. */
export function utcWeekday(ms: number): number {
  return weekdayOfDay(Math.floor(ms / DAY_MS))
}

/** Saturday or Sunday in UTC. */
export function isUtcWeekend(ms: number): boolean {
  const day = utcWeekday(ms)
  return day === 0 || day === 6
}

/** Whether [start, end) overlaps one of the periods (each [period.start, period.end)). */
export function overlapsAny(
  periods: readonly { start: number; end: number }[],
  start: number,
  end: number,
): boolean {
  for (const r of periods) if (r.start < end && start < r.end) return true
  return false
}

export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1)

// ISO 8601 date-time; offset optional (no offset means UTC, per the data model).
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i

export type TimestampParse = { ok: true; ms: number } | { ok: false; reason: string }

/** Parses an API timestamp: an ISO 8601 string (UTC unless it carries an offset) or epoch milliseconds. */
export function parseTimestamp(input: unknown): TimestampParse {
  if (typeof input === 'number') return fromEpochMs(input)
  if (typeof input !== 'string')
    return { ok: false, reason: 'must be an ISO 8601 string or epoch milliseconds' }
  const text = input.trim()
  if (/^\d+$/.test(text)) return fromEpochMs(Number(text))
  const m = ISO_PATTERN.exec(text)
  if (!m)
    return { ok: false, reason: `'${truncate(text)}' is not an ISO 8601 timestamp or epoch milliseconds` }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  const millis = Number(frac.padEnd(3, '0').slice(0, 3))
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  const check = new Date(ms)
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return { ok: false, reason: `'${truncate(text)}' is not a valid calendar date-time` }
  }
  if (offset && offset.toUpperCase() !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replace(':', '')
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000
  }
  return fromEpochMs(ms)
}

function fromEpochMs(ms: number): TimestampParse {
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    return { ok: false, reason: 'epoch milliseconds must be a finite integer' }
  }
  if (ms < MIN_TIMESTAMP_MS) {
    const hint = ms > 0 && ms < 1e11 ? ' (this looks like epoch seconds; send milliseconds)' : ''
    return { ok: false, reason: `timestamp is before 2000-01-01${hint}` }
  }
  if (ms > Date.UTC(9999, 11, 31)) return { ok: false, reason: 'timestamp is after year 9999' }
  return { ok: true, ms }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

export function floorToHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS
}

export function isHourAligned(ms: number): boolean {
  return ms % HOUR_MS === 0
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString()
}
