import { InvalidArgumentError } from 'commander'
import { inRange, type NumberRange, rangeReason } from '../domain/limits.js'
import { parseTimestamp } from '../domain/time.js'

// A plain decimal: Number() would also take '', ' ', '0x10', 'Infinity' and '1e309' (the last two not finite).
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/** A commander parser for a number option in `range`: finite, in bounds, written as a decimal. */
export function numberOption(range: NumberRange) {
  return (value: string): number => {
    const n = DECIMAL.test(value.trim()) ? Number(value) : Number.NaN
    if (!inRange(n, range)) throw new InvalidArgumentError(rangeReason(range))
    return n
  }
}

/** A commander parser for a time option: ISO 8601 or epoch ms, 2000-01-01 or later. */
export function timestampOption(value: string): number {
  const parsed = parseTimestamp(value)
  if (!parsed.ok) throw new InvalidArgumentError(parsed.reason)
  return parsed.ms
}

/** A commander parser for an option that takes one of `choices`. */
export function choiceOption<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`)
    return value as T
  }
}
