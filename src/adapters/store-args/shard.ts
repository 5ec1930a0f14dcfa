import { type FieldIssue, ValidationError } from '../../errors.js'
import type { StoredShardResult } from '../../ports.js'

// Checks of shard-store arguments, shared by the SQLite and DynamoDB adapters so that both refuse alike.

/** Shard indexes are stored zero-padded to this many digits (DynamoDB sort keys sort as strings). */
export const SHARD_INDEX_DIGITS = 6
export const MAX_SHARD_INDEX = 10 ** SHARD_INDEX_DIGITS - 1
/** Run ids and claim owners go into keys: non-empty and at most this many UTF-8 bytes. */
export const MAX_SHARD_ID_BYTES = 512

/** In a `u` regex a surrogate class matches only unpaired halves, which UTF-8 cannot carry (stores would mangle them). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

function idIssue(field: string, value: unknown): FieldIssue | null {
  return typeof value === 'string' && value !== '' && Buffer.byteLength(value, 'utf8') <= MAX_SHARD_ID_BYTES
    ? null
    : { field, reason: `must be a non-empty string of at most ${MAX_SHARD_ID_BYTES} UTF-8 bytes` }
}

function integerIssue(field: string, value: unknown, max: number, unit: string): FieldIssue | null {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max
    ? null
    : { field, reason: `must be an integer ${unit} between 0 and ${max}, got ${String(value)}` }
}

function refuse(what: string, issues: readonly (FieldIssue | null)[]): void {
  const found = issues.filter((i): i is FieldIssue => i !== null)
  if (found.length > 0) {
    throw new ValidationError(
      `invalid ${what}: ${found.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      found,
    )
  }
}

/** Refuses a shard result a store could not hold faithfully, naming every bad field. */
export function checkShardResult(result: StoredShardResult): void {
  refuse('shard result', [
    idIssue('run_id', result.runId),
    integerIssue('index', result.index, MAX_SHARD_INDEX, '(0-based)'),
    typeof result.payload === 'string' && !LONE_SURROGATE.test(result.payload)
      ? null
      : { field: 'payload', reason: 'must be a string of well-formed Unicode (no lone surrogates)' },
    integerIssue('ttl', result.ttl, Number.MAX_SAFE_INTEGER, 'epoch seconds'),
  ])
}

export function checkRunId(runId: string): void {
  refuse('run id', [idIssue('run_id', runId)])
}

/** Refuses a finish claim with an empty owner or times that are not epoch-milliseconds integers. */
export function checkFinishClaim(runId: string, owner: string, now: number, until: number): void {
  refuse('finish claim', [
    idIssue('run_id', runId),
    idIssue('owner', owner),
    integerIssue('now', now, Number.MAX_SAFE_INTEGER, 'epoch milliseconds'),
    integerIssue('until', until, Number.MAX_SAFE_INTEGER, 'epoch milliseconds'),
  ])
}
