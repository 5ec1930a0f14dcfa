import { createHash } from 'node:crypto'
import type { IdempotencyKey } from '../../ports.js'

/** Ledger keys: a batch's row, an event id's row, and the row of an event without an id (`n:<batch>:<position>`). */
export const BATCH_KEY = 'b:'
export const EVENT_KEY = 'e:'
export const UNNAMED_KEY = 'n:'

/** A value as a TabSeparated field (ids are printable ASCII today, but only `\\` would need escaping then). */
export function tsvField(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => TSV_ESCAPES[c] ?? c) : value
}

const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** The same caller's Idempotency-Key names the same batches in every process: their ids start with this. */
export function keyedBatchPrefix({ scope, key }: IdempotencyKey): string {
  return `k-${createHash('sha256').update(`${scope}\n${key}`).digest('hex').slice(0, 40)}.`
}

/** The smallest string above every string starting with `prefix` (its last character plus one). */
export function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}
