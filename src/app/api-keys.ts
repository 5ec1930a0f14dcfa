import { randomBytes } from 'node:crypto'
import {
  API_KEY_ID_BYTES,
  API_KEY_ID_PATTERN,
  API_KEY_SECRET_BYTES,
  type ApiKeyInfo,
  type ApiKeyRecord,
  type ApiKeyScope,
  formatToken,
  hashToken,
  keyInfo,
  parseKeyName,
  parseScopes,
  tokenId,
  tokenMatches,
} from '../domain/api-key.js'
import { ConflictError, NotFoundError, ValidationError } from '../errors.js'
import type { ApiKeyStore, Clock } from '../ports.js'

export interface ApiKeysOptions {
  /**
   * How long a key read from the store is trusted before it is read again. A revocation in this process takes
   * effect at once; one made by another process (the CLI, another server) within this time.
   */
  cacheMs?: number
  /** Last use is written at most this often per key, so that a request is not a write. */
  touchIntervalMs?: number
}

/** A key just made: the only moment its token exists outside the caller's hands. */
export interface CreatedKey {
  key: ApiKeyInfo
  token: string
}

/** The name of the key printed at first start. */
export const INITIAL_KEY_NAME = 'initial admin key'
/** The name of the key made from METERFLOW_ADMIN_KEY. */
export const BOOTSTRAP_KEY_NAME = 'METERFLOW_ADMIN_KEY'

const CACHE_ENTRIES = 1_000
const ID_ATTEMPTS = 3

/** API keys: made, listed, revoked, and checked on every request. */
export class ApiKeys {
  private readonly cache = new Map<string, { record: ApiKeyRecord; readAt: number }>()
  private readonly cacheMs: number
  private readonly touchIntervalMs: number

  constructor(
    private readonly store: ApiKeyStore,
    private readonly clock: Clock,
    options: ApiKeysOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5_000
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000
  }

  /** Makes a key; the returned token is shown once and never again (only its hash is stored). */
  async create(request: { name: unknown; scopes: unknown }): Promise<CreatedKey> {
    const name = parseKeyName(request.name)
    const scopes = parseScopes(request.scopes)
    const issues = [...(name.ok ? [] : [name.issue]), ...(scopes.ok ? [] : [scopes.issue])]
    if (!name.ok || !scopes.ok) {
      throw new ValidationError(
        `invalid key: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
        issues,
      )
    }
    // 48 random id bits: a collision is all but impossible, and the store refuses one rather than overwrite.
    for (let attempt = 1; ; attempt++) {
      const { id, token } = formatToken(randomBytes(API_KEY_ID_BYTES), randomBytes(API_KEY_SECRET_BYTES))
      const record = this.newRecord(id, token, name.name, scopes.scopes)
      try {
        await this.store.insert(record)
        return { key: keyInfo(record), token }
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= ID_ATTEMPTS) throw err
      }
    }
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.list()).map(keyInfo)
  }

  /** Revokes a key for good (revoking a revoked key changes nothing); a NotFoundError for an unknown id. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const revoked = API_KEY_ID_PATTERN.test(id) ? await this.store.revoke(id, this.clock.now()) : null
    this.cache.delete(id)
    if (!revoked) throw new NotFoundError(`no API key ${id}`, [{ field: 'id', reason: 'unknown' }])
    return keyInfo(revoked)
  }

  /** The live key a token is, or null (malformed, unknown, wrong secret, revoked). Records the use. */
  async authenticate(token: string): Promise<ApiKeyInfo | null> {
    const id = tokenId(token)
    if (id === null) return null
    const now = this.clock.now()
    const record = await this.read(id, now)
    if (!record || !tokenMatches(record, token) || record.revokedAt !== null) return null
    if (record.lastUsedAt === null || now - record.lastUsedAt >= this.touchIntervalMs) {
      await this.store.touch(id, now)
      record.lastUsedAt = now
    }
    return keyInfo(record)
  }

  /**
   * At the first start with authentication on: makes sure an admin can get in. With `adminKey` (a deploy's
   * METERFLOW_ADMIN_KEY) that key is stored if it is not; otherwise, when the store holds no key at all, an admin
   * key is made and returned for printing. Returns null when nothing was made to show. A revoked bootstrap key
   * stays revoked.
   */
  async bootstrap(adminKey: string | undefined): Promise<CreatedKey | null> {
    if (adminKey !== undefined) {
      const id = tokenId(adminKey)
      if (id === null) {
        throw new ValidationError('METERFLOW_ADMIN_KEY is not a MeterFlow API key', [
          {
            field: 'METERFLOW_ADMIN_KEY',
            reason: 'must look like mf_<12 hex digits>_<43 base64url characters>',
          },
        ])
      }
      const stored = await this.store.get(id)
      if (stored && !tokenMatches(stored, adminKey)) {
        throw new ConflictError(`METERFLOW_ADMIN_KEY's id ${id} belongs to another key`, [
          { field: 'METERFLOW_ADMIN_KEY', reason: 'id taken by another key: choose another value' },
        ])
      }
      if (!stored) await this.store.insert(this.newRecord(id, adminKey, BOOTSTRAP_KEY_NAME, ['admin']))
      return null
    }
    if ((await this.store.list()).length > 0) return null
    return this.create({ name: INITIAL_KEY_NAME, scopes: ['admin'] })
  }

  private newRecord(id: string, token: string, name: string, scopes: ApiKeyScope[]): ApiKeyRecord {
    return {
      id,
      name,
      scopes,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
      hash: hashToken(token),
    }
  }

  private async read(id: string, now: number): Promise<ApiKeyRecord | null> {
    const cached = this.cache.get(id)
    if (cached && now - cached.readAt < this.cacheMs && now >= cached.readAt) return cached.record
    const record = await this.store.get(id)
    this.cache.delete(id)
    if (record) {
      // Bounded: the oldest entry goes first (Map keeps insertion order).
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string)
      this.cache.set(id, { record, readAt: now })
    }
    return record
  }
}
