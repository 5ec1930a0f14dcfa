import { parseTimestamp } from '../domain/time.js'
import { ValidationError } from '../errors.js'

/** A time query or body parameter (ISO 8601 or epoch ms); absent stays undefined, bad is a 400 naming the field. */
export function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = parseTimestamp(value)
  if (!parsed.ok)
    throw new ValidationError(`invalid ${field}: ${parsed.reason}`, [{ field, reason: parsed.reason }])
  return parsed.ms
}
