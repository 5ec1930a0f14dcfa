import type { DetectionRun } from './run.js'

/** Shards per run: bounds the coordinator's fan-out and what a worker accepts in a task. */
export const MAX_SHARDS = 1000

/** A customer-id range [from, to): `from` '' = from the first customer; `to` '' = through the last. */
export interface CustomerRange {
  from: string
  to: string
}

/** The whole customer space (an unsharded run). */
export const ALL_CUSTOMERS: CustomerRange = { from: '', to: '' }

/**
 * One shard of a sharded run: what a worker needs to evaluate its customers exactly as the unsharded run would.
 * Everything that must be the same for every shard (the run, its slot, whether it is a backfill) is decided once by
 * the coordinator and carried here.
 */
export interface ShardTask {
  runId: string
  slot: number
  trigger: DetectionRun['trigger']
  /** When the coordinator started the run (the run record's startedAt; anomaly retention counts from it). */
  startedAt: number
  /** A run for a slot older than the latest completed one: stores anomalies, moves no incident. */
  backfill: boolean
  /** 0-based position; shards are ordered by customer id. */
  index: number
  /** How many shards the run has: the run is finished once this many results are stored. */
  total: number
  range: CustomerRange
}

/** Whether `customerId` falls in `range`. */
export function inRange(customerId: string, range: CustomerRange): boolean {
  return customerId >= range.from && (range.to === '' || customerId < range.to)
}

/** Ranges from sorted lower bounds (the first bound is ''): bound i up to bound i + 1. */
export function rangesFromBounds(bounds: readonly string[]): CustomerRange[] {
  return bounds.map((from, i) => ({ from, to: bounds[i + 1] ?? '' }))
}

/**
 * The narrowest range holding every id in `ids` (non-empty): from the least to just after the greatest. Customer
 * ids are printable ASCII from '!' (events.ts, ID_PATTERN), so no valid id lies between X and X + '!': the range
 * holds exactly the ids from the least to the greatest.
 */
export function rangeCovering(ids: Iterable<string>): CustomerRange | null {
  let least: string | null = null
  let greatest: string | null = null
  for (const id of ids) {
    if (least === null || id < least) least = id
    if (greatest === null || id > greatest) greatest = id
  }
  return least === null || greatest === null ? null : { from: least, to: `${greatest}!` }
}

/** Whether `range` is rangeCovering of one id (it then holds that customer alone). */
export function isSingleCustomer(range: CustomerRange): boolean {
  return range.from !== '' && range.to === `${range.from}!`
}
