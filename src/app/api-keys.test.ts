import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteAnomalyStore } from '../adapters/sqlite/anomaly-store.js'
import { API_KEY_PATTERN, formatToken, hashToken } from '../domain/api-key.js'
import { ConflictError, NotFoundError, ValidationError } from '../errors.js'
import { ApiKeys, BOOTSTRAP_KEY_NAME, INITIAL_KEY_NAME } from './api-keys.js'

const T0 = Date.UTC(2026, 10, 25, 10)

describe('ApiKeys (on a real SQLite store)', () => {
  let now: number
  let store: SqliteAnomalyStore
  let keys: ApiKeys

  beforeEach(() => {
    now = T0
    store = SqliteAnomalyStore.open(':memory:', { now: () => now })
    keys = new ApiKeys(store.apiKeys, { now: () => now })
  })
  afterEach(() => store.close())

  it('creates a key whose token is returned once and stored only as its hash', async () => {
    const { key, token } = await keys.create({ name: ' eu agent ', scopes: 'read,ingest' })
    expect(token).toMatch(API_KEY_PATTERN)
    expect(key).toEqual({
      id: token.slice(3, 15),
      name: 'eu agent',
      scopes: ['ingest', 'read'],
      createdAt: T0,
      lastUsedAt: null,
      revokedAt: null,
    })
    expect(key).not.toHaveProperty('hash')
    const stored = await store.apiKeys.get(key.id)
    expect(stored?.hash).toBe(hashToken(token))
    expect(JSON.stringify(stored)).not.toContain(token.slice(16))
    expect(await keys.list()).toEqual([key])
  })

  it('refuses a bad name or scope list, naming both, and stores nothing', async () => {
    const err = await keys.create({ name: '', scopes: ['write'] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).details.map((d) => d.field)).toEqual(['name', 'scopes'])
    expect(await keys.list()).toEqual([])
  })

  it('authenticates a live key only: not a wrong secret, not a malformed token, not after revocation', async () => {
    const { key, token } = await keys.create({ name: 'a', scopes: ['read'] })
    expect(await keys.authenticate(token)).toMatchObject({ id: key.id, scopes: ['read'] })
    const sameIdOtherSecret = `${token.slice(0, 16)}${token[16] === 'A' ? 'B' : 'A'}${token.slice(17)}`
    expect(await keys.authenticate(sameIdOtherSecret)).toBeNull()
    expect(await keys.authenticate('Bearer nonsense')).toBeNull()
    expect(await keys.authenticate(formatToken(new Uint8Array(6), new Uint8Array(32)).token)).toBeNull()
    now += 1
    expect((await keys.revoke(key.id)).revokedAt).toBe(T0 + 1)
    // Revocation in this process takes effect at once, whatever the cache holds.
    expect(await keys.authenticate(token)).toBeNull()
    now += 10
    expect((await keys.revoke(key.id)).revokedAt).toBe(T0 + 1)
    await expect(keys.revoke('000000000000')).rejects.toBeInstanceOf(NotFoundError)
    await expect(keys.revoke('../etc')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('records the last use at most once a minute, so a request is not a write', async () => {
    const { key, token } = await keys.create({ name: 'a', scopes: ['ingest'] })
    const lastUsed = async () => (await store.apiKeys.get(key.id))?.lastUsedAt
    await keys.authenticate(token)
    expect(await lastUsed()).toBe(T0)
    now += 30_000
    await keys.authenticate(token)
    expect(await lastUsed()).toBe(T0)
    now += 30_000
    await keys.authenticate(token)
    expect(await lastUsed()).toBe(T0 + 60_000)
  })

  it('sees a revocation made by another process once its cache entry is older than cacheMs', async () => {
    const { key, token } = await keys.create({ name: 'a', scopes: ['read'] })
    const other = new ApiKeys(store.apiKeys, { now: () => now })
    expect(await keys.authenticate(token)).not.toBeNull()
    await other.revoke(key.id)
    now += 4_999
    expect(await keys.authenticate(token)).not.toBeNull()
    now += 1
    expect(await keys.authenticate(token)).toBeNull()
  })

  it('bootstraps: an admin key on an empty store only, once', async () => {
    const first = await keys.bootstrap(undefined)
    expect(first?.key).toMatchObject({ name: INITIAL_KEY_NAME, scopes: ['admin'] })
    expect(await keys.authenticate(first?.token ?? '')).not.toBeNull()
    expect(await keys.bootstrap(undefined)).toBeNull()
    await keys.revoke(first?.key.id ?? '')
    // All keys revoked is not "no key": a restart must not hand out a fresh admin key.
    expect(await keys.bootstrap(undefined)).toBeNull()
    expect(await keys.list()).toHaveLength(1)
  })

  it('bootstraps METERFLOW_ADMIN_KEY: stored once, never printed, a clash refused, a revocation kept', async () => {
    const { token } = formatToken(new Uint8Array(6).fill(7), new Uint8Array(32).fill(9))
    expect(await keys.bootstrap(token)).toBeNull()
    expect(await keys.bootstrap(token)).toBeNull()
    const listed = await keys.list()
    expect(listed).toEqual([expect.objectContaining({ name: BOOTSTRAP_KEY_NAME, scopes: ['admin'] })])
    expect(await keys.authenticate(token)).not.toBeNull()
    const clash = formatToken(new Uint8Array(6).fill(7), new Uint8Array(32).fill(8)).token
    await expect(keys.bootstrap(clash)).rejects.toBeInstanceOf(ConflictError)
    await keys.revoke(listed[0]?.id ?? '')
    expect(await keys.bootstrap(token)).toBeNull()
    expect(await keys.authenticate(token)).toBeNull()
    await expect(keys.bootstrap('mf_short')).rejects.toBeInstanceOf(ValidationError)
  })
})
