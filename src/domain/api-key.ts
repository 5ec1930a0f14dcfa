import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * What a key may do. `admin` may do everything. `ingest` and `read` are disjoint on purpose: a key baked into a
 * metering agent (ingest) cannot read other customers' usage or anomalies, and a dashboard's or reporting job's
 * key (read) cannot write usage. A client that needs both gets both scopes.
 */
export const API_KEY_SCOPES = ['ingest', 'read', 'admin'] as const
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number]

/** Why a field of a key request is refused. */
export interface KeyFieldIssue {
  field: string
  reason: string
}

/** A stored key. The secret itself is never stored: only its hash. */
export interface ApiKeyRecord {
  /** Public part of the key (it appears in the token): lists, revokes and rate-limits a key without its secret. */
  id: string
  name: string
  /** Non-empty, without repeats, in API_KEY_SCOPES order. */
  scopes: ApiKeyScope[]
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
  /** SHA-256 of the whole token, lowercase hex. */
  hash: string
}

/** A key as it may be shown: everything but the hash. */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>

// The token: `mf_` + 12 hex digits of id + `_` + 32 random bytes in base64url (43 characters). The prefix makes a
// leaked key recognisable to secret scanners; the fixed-length id makes parsing unambiguous although base64url
// itself may contain `_`.
const TOKEN_PREFIX = 'mf_'
export const API_KEY_ID_BYTES = 6
export const API_KEY_SECRET_BYTES = 32
export const API_KEY_ID_PATTERN = /^[0-9a-f]{12}$/
export const API_KEY_PATTERN = /^mf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/
export const MAX_KEY_NAME_LENGTH = 100

/** Builds a new token from random bytes (the caller's source: the domain does no I/O). */
export function formatToken(idBytes: Uint8Array, secretBytes: Uint8Array): { id: string; token: string } {
  if (idBytes.length !== API_KEY_ID_BYTES || secretBytes.length !== API_KEY_SECRET_BYTES) {
    throw new RangeError(`a key needs ${API_KEY_ID_BYTES} id bytes and ${API_KEY_SECRET_BYTES} secret bytes`)
  }
  const id = Buffer.from(idBytes).toString('hex')
  return { id, token: `${TOKEN_PREFIX}${id}_${Buffer.from(secretBytes).toString('base64url')}` }
}

/** The id a token claims, or null when it is not shaped like a MeterFlow key. */
export function tokenId(token: string): string | null {
  return API_KEY_PATTERN.exec(token)?.[1] ?? null
}

/**
 * SHA-256, not a password hash (bcrypt, scrypt, argon2): those slow down guessing of low-entropy human
 * passwords. A key carries 256 random bits, so no amount of guessing gets anywhere and a fast hash costs nothing
 * in safety while keeping the check cheap enough to run on every request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** Whether `token` is the key `record` was made from, in time independent of where the hashes differ. */
export function tokenMatches(record: Pick<ApiKeyRecord, 'hash'>, token: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex')
  const stored = Buffer.from(record.hash, 'hex')
  return stored.length === presented.length && timingSafeEqual(stored, presented)
}

/** Whether a key with `scopes` may use a route that requires `required`. */
export function allows(scopes: readonly ApiKeyScope[], required: ApiKeyScope): boolean {
  return scopes.includes('admin') || scopes.includes(required)
}

/** Parses scopes from a list or a comma-separated string: non-empty, known, deduplicated, in canonical order. */
export function parseScopes(
  raw: unknown,
): { ok: true; scopes: ApiKeyScope[] } | { ok: false; issue: KeyFieldIssue } {
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw
  const reason = `must be a non-empty list of ${API_KEY_SCOPES.join(', ')}`
  if (!Array.isArray(items) || items.length === 0 || items.length > 10) {
    return { ok: false, issue: { field: 'scopes', reason } }
  }
  for (const item of items) {
    if (!(API_KEY_SCOPES as readonly unknown[]).includes(item)) {
      return { ok: false, issue: { field: 'scopes', reason: `unknown scope '${String(item)}': ${reason}` } }
    }
  }
  return { ok: true, scopes: API_KEY_SCOPES.filter((s) => items.includes(s)) }
}

/** A key's name: 1..100 characters, no control characters, trimmed. */
export function parseKeyName(raw: unknown): { ok: true; name: string } | { ok: false; issue: KeyFieldIssue } {
  const name = typeof raw === 'string' ? raw.trim() : ''
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (name === '' || name.length > MAX_KEY_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    return {
      ok: false,
      issue: {
        field: 'name',
        reason: `must be 1..${MAX_KEY_NAME_LENGTH} characters without control characters`,
      },
    }
  }
  return { ok: true, name }
}

export function keyInfo(record: ApiKeyRecord): ApiKeyInfo {
  const { hash: _hash, ...info } = record
  return info
}
