import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ApiKeyRecord, hashToken } from '../../src/domain/api-key.js'
import { ConflictError, ValidationError } from '../../src/errors.js'
import type { AnomalyStore, ApiKeyStore } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'

const NOW = Date.UTC(2026, 10, 25, 10, 5)

/** A key record as the use case makes them; `n` varies the id and hash. */
export function apiKey(n: number, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: n.toString(16).padStart(12, '0'),
    name: `key ${n}`,
    scopes: ['read'],
    createdAt: NOW - n * 1000,
    lastUsedAt: null,
    revokedAt: null,
    hash: hashToken(`token-${n}`),
    ...overrides,
  }
}

/**
 * The behaviour every ApiKeyStore (the `apiKeys` of an AnomalyStore adapter) must show. Each test gets a fresh,
 * empty store from `open`; the suite closes it afterwards and calls `cleanup`.
 */
export function describeApiKeyStoreContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let owner: AnomalyStore
    let store: ApiKeyStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ store: owner, cleanup } = await open(new ManualClock(NOW)))
      store = owner.apiKeys
    })

    afterEach(async () => {
      await owner.close()
      await cleanup()
    })

    it('stores a key and reads it back exactly; an unknown id is null', async () => {
      const key = apiKey(1, { name: 'ingest agent: eu-west', scopes: ['ingest', 'read'] })
      await store.insert(key)
      expect(await store.get(key.id)).toStrictEqual(key)
      expect(await store.get(apiKey(2).id)).toBeNull()
      expect(await store.get('not-a-key-id')).toBeNull()
      expect(await store.get('')).toBeNull()
    })

    it('refuses a second key with a taken id and keeps the first', async () => {
      const key = apiKey(1)
      await store.insert(key)
      const other = { ...apiKey(2), id: key.id, scopes: ['admin' as const] }
      await expect(store.insert(other)).rejects.toBeInstanceOf(ConflictError)
      expect(await store.get(key.id)).toStrictEqual(key)
    })

    it('lists every key, revoked ones too, newest created first, ties by id', async () => {
      const a = apiKey(1, { createdAt: NOW })
      const b = apiKey(2, { createdAt: NOW - 5 })
      const c = apiKey(3, { createdAt: NOW })
      expect(await store.list()).toEqual([])
      for (const key of [b, c, a]) await store.insert(key)
      await store.revoke(b.id, NOW + 1)
      expect((await store.list()).map((k) => k.id)).toEqual([a.id, c.id, b.id])
      expect((await store.list())[2]).toStrictEqual({ ...b, revokedAt: NOW + 1 })
    })

    it('revokes once: the first revocation time stays; an unknown id is null', async () => {
      const key = apiKey(1)
      await store.insert(key)
      expect(await store.revoke(key.id, NOW + 10)).toStrictEqual({ ...key, revokedAt: NOW + 10 })
      expect(await store.revoke(key.id, NOW + 20)).toStrictEqual({ ...key, revokedAt: NOW + 10 })
      expect(await store.get(key.id)).toStrictEqual({ ...key, revokedAt: NOW + 10 })
      expect(await store.revoke(apiKey(9).id, NOW)).toBeNull()
      expect(await store.get(apiKey(9).id)).toBeNull()
    })

    it('records the latest use only, and ignores an unknown id', async () => {
      const key = apiKey(1)
      await store.insert(key)
      await store.touch(key.id, NOW + 60_000)
      expect((await store.get(key.id))?.lastUsedAt).toBe(NOW + 60_000)
      await store.touch(key.id, NOW + 1_000)
      expect((await store.get(key.id))?.lastUsedAt).toBe(NOW + 60_000)
      await store.touch(key.id, NOW + 120_000)
      expect(await store.get(key.id)).toStrictEqual({ ...key, lastUsedAt: NOW + 120_000 })
      await store.touch(apiKey(9).id, NOW)
      expect(await store.get(apiKey(9).id)).toBeNull()
      expect(await store.list()).toHaveLength(1)
    })

    it('refuses a malformed record naming every bad field, and stores nothing', async () => {
      const bad = {
        ...apiKey(1),
        id: 'ABC',
        name: '',
        scopes: [],
        hash: 'secret-in-clear',
        createdAt: Number.NaN,
      } as ApiKeyRecord
      const err = await store.insert(bad).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).details.map((d) => d.field).sort()).toEqual([
        'created_at',
        'hash',
        'id',
        'name',
        'scopes',
      ])
      await expect(store.insert({ ...apiKey(2), scopes: ['read', 'ingest'] })).rejects.toBeInstanceOf(
        ValidationError,
      )
      expect(await store.list()).toEqual([])
      await expect(store.revoke(apiKey(1).id, Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(
        ValidationError,
      )
      await expect(store.touch(apiKey(1).id, 1.5)).rejects.toBeInstanceOf(ValidationError)
    })

    it('keeps keys apart from the other records of the store', async () => {
      await store.insert(apiKey(1))
      expect(await owner.listCustomers()).toEqual([])
      expect(await owner.openIncidents()).toEqual([])
      expect((await owner.listRuns({ limit: 10 })).items).toEqual([])
      expect(await owner.alerts.activeMutes(NOW)).toEqual([])
    })
  })
}
