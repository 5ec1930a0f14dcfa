import type { Page } from '../../domain/anomaly.js'
import { ValidationError } from '../../errors.js'

/**
 * Which listing a cursor continues: a cursor from one listing is refused by another. A listing in another order
 * than its default is another listing (`anomalies severity`): its cursor holds another key.
 */
export type CursorKind =
  | 'anomalies'
  | 'incidents'
  | 'runs'
  | 'alerts'
  | `${'anomalies' | 'incidents'} ${string}`

/** The cursor kind of a listing in `sort` order (the default order keeps the plain kind its cursors always had). */
export function sortedCursorKind(
  listing: 'anomalies' | 'incidents',
  sort: string | undefined,
  defaultSort: string,
): CursorKind {
  return sort === undefined || sort === defaultSort ? listing : `${listing} ${sort}`
}

/** int: a safe integer; number: any finite number; string. */
export type KeyPart = 'int' | 'number' | 'string'
type KeyValue<P extends KeyPart> = P extends 'string' ? string : number
type Key<S extends readonly KeyPart[]> = { [I in keyof S]: KeyValue<S[I]> }

export const ANOMALY_KEY = ['int', 'string', 'string', 'string'] as const // detected_at, metric, customer_id, kind
export const INCIDENT_KEY = ['int', 'string'] as const // opened_at, id
export const RUN_KEY = ['int', 'int', 'string'] as const // slot, started_at, run_id

/**
 * An opaque continuation: base64url of `{"k": kind, "v": [sort key of the last row returned]}`. The next page
 * starts strictly after that key, so rows written between pages neither repeat nor shift the walk.
 */
export function encodeCursor(kind: CursorKind, key: readonly (number | string)[]): string {
  return Buffer.from(JSON.stringify({ k: kind, v: key }), 'utf8').toString('base64url')
}

export function decodeCursor<S extends readonly KeyPart[]>(
  kind: CursorKind,
  shape: S,
  cursor: string,
): Key<S> {
  const invalid = (reason: string) =>
    new ValidationError(`invalid cursor: ${reason}`, [
      { field: 'cursor', reason: `${reason}; pass back nextCursor of the previous page unchanged` },
    ])
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('not a base64url string')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalid('not a cursor this store issued')
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a cursor this store issued')
  const { k, v } = parsed as { k?: unknown; v?: unknown }
  if (k !== kind) throw invalid(`not a cursor for ${kind}`)
  if (!Array.isArray(v) || v.length !== shape.length) throw invalid('not a cursor this store issued')
  shape.forEach((part, i) => {
    const value: unknown = v[i]
    const ok =
      part === 'int'
        ? Number.isSafeInteger(value)
        : part === 'number'
          ? Number.isFinite(value)
          : typeof value === 'string'
    if (!ok) throw invalid('not a cursor this store issued')
  })
  return v as Key<S>
}

// ---- Query arguments --------------------------------------------------------------------------------------

export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ValidationError(`invalid limit: ${String(limit)}`, [
      { field: 'limit', reason: 'must be a positive integer' },
    ])
  }
  return limit
}

export function checkOneOf(field: string, value: string | undefined, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new ValidationError(`invalid ${field}: ${value}`, [
      { field, reason: `must be one of ${allowed.join(', ')}` },
    ])
  }
}

export function checkTime(field: string, value: number | undefined): void {
  if (value !== undefined && !Number.isFinite(value)) {
    throw new ValidationError(`invalid ${field}: ${String(value)}`, [
      { field, reason: 'must be a time in epoch milliseconds' },
    ])
  }
}

/** Rows were fetched with LIMIT limit + 1: the extra row only says that another page exists. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => string): Page<T> {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept[kept.length - 1]
  return { items: kept.map(map), nextCursor: more && last !== undefined ? key(last) : null }
}
