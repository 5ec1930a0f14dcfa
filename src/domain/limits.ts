import { DAY_MS } from './time.js'

/** The range a number from outside must fall in: finite, `min..max` inclusive (`exclusiveMin`: strictly above min). */
export interface NumberRange {
  readonly min: number
  readonly max: number
  readonly integer: boolean
  readonly exclusiveMin?: boolean
}

/**
 * The bounds of every number a caller sets (HTTP, CLI, config), declared once: the HTTP schemas, the CLI's option
 * parsers and the config schema derive theirs from these. Each is finite and small enough that no request can make
 * the work explode (`baseline_days=1e309` once made the check build windows until the heap ran out). Detector
 * settings are bounded in their own declaration (detector-settings.ts).
 */
export const BOUNDS = {
  /** |z| at or above which a value is anomalous (or critical). */
  threshold: { min: 0, exclusiveMin: true, max: 1_000_000, integer: false },
  baselineDays: { min: 1, max: 365, integer: true },
  /** Items per page of a list. */
  pageSize: { min: 1, max: 1000, integer: true },
  minSamples: { min: 1, max: 365, integer: true },
  /** The stddev floor as a fraction of the baseline mean. */
  minRelativeStddev: { min: 0, max: 1000, integer: false },
  minAbsoluteStddev: { min: 0, max: 1e18, integer: false },
  demoCustomers: { min: 1, max: 100_000, integer: true },
  demoDays: { min: 1, max: 400, integer: true },
  demoSeed: { min: 0, max: 2 ** 31, integer: true },
  /** A mute's length in minutes (90 days). */
  muteMinutes: { min: 1, max: 90 * 24 * 60, integer: true },
} as const satisfies Record<string, NumberRange>

/** The longest current window a check accepts; its baseline reaches back at most baselineDays further. */
export const MAX_CHECK_WINDOW_MS = 366 * DAY_MS

/** `must be an integer in 1..365`, `must be a number > 0 and <= 1000000`: the reason a value outside `range` gets. */
export function rangeReason(range: NumberRange): string {
  const kind = range.integer ? 'an integer' : 'a number'
  if (range.exclusiveMin) return `must be ${kind} > ${range.min} and <= ${range.max}`
  return `must be ${kind} in ${range.min}..${range.max}`
}

/** Whether `value` is a finite number inside `range`. */
export function inRange(value: number, range: NumberRange): boolean {
  if (!Number.isFinite(value)) return false
  if (range.integer && !Number.isInteger(value)) return false
  if (range.exclusiveMin ? value <= range.min : value < range.min) return false
  return value <= range.max
}
