import {
  API_KEY_ID_PATTERN,
  API_KEY_SCOPES,
  type ApiKeyRecord,
  MAX_KEY_NAME_LENGTH,
} from '../../domain/api-key.js'
import { type FieldIssue, ValidationError } from '../../errors.js'

const HASH_PATTERN = /^[0-9a-f]{64}$/

/** Refuses a key record a store could not hold faithfully, naming every bad field (shared by both adapters). */
export function checkApiKeyRecord(key: ApiKeyRecord): void {
  const issues: FieldIssue[] = []
  if (!API_KEY_ID_PATTERN.test(key.id))
    issues.push({ field: 'id', reason: 'must be 12 lowercase hex digits' })
  if (typeof key.name !== 'string' || key.name === '' || key.name.length > MAX_KEY_NAME_LENGTH) {
    issues.push({ field: 'name', reason: `must be 1..${MAX_KEY_NAME_LENGTH} characters` })
  }
  const canonical = API_KEY_SCOPES.filter((s) => key.scopes.includes(s))
  if (key.scopes.length === 0 || canonical.join() !== key.scopes.join()) {
    issues.push({
      field: 'scopes',
      reason: `must be a non-empty list of ${API_KEY_SCOPES.join(', ')}, in that order`,
    })
  }
  if (!HASH_PATTERN.test(key.hash))
    issues.push({ field: 'hash', reason: 'must be a SHA-256 in lowercase hex' })
  for (const [field, value] of [
    ['created_at', key.createdAt],
    ['last_used_at', key.lastUsedAt],
    ['revoked_at', key.revokedAt],
  ] as const) {
    if (value !== null && !isTime(value))
      issues.push({ field, reason: 'must be an epoch-milliseconds integer' })
  }
  if (key.createdAt === null) issues.push({ field: 'created_at', reason: 'is required' })
  if (issues.length > 0) throw new ValidationError(`invalid API key record ${String(key.id)}`, issues)
}

/** Refuses a use or revocation time that is not a non-negative epoch-milliseconds integer. */
export function checkKeyTime(field: string, at: number): void {
  if (!isTime(at)) {
    throw new ValidationError(`invalid ${field}: ${String(at)}`, [
      { field, reason: 'must be an epoch-milliseconds integer' },
    ])
  }
}

function isTime(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0
}
