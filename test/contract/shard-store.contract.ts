import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import type { AnomalyStore, ShardStore, StoredShardResult } from '../../src/ports.js'
import { ManualClock } from '../helpers.js'
import { run, SLOT } from './anomaly-store.contract.js'

const NOW = Date.UTC(2026, 10, 25, 10, 5)
const TTL = Math.floor(NOW / 1000) + 7 * 86_400

export function shardResult(runId: string, index: number, payload: string): StoredShardResult {
  return { runId, index, payload, ttl: TTL }
}

/**
 * Multi-byte text of about `bytes` UTF-8 bytes: 1-, 2-, 3- and 4-byte characters in a cycle that does not divide
 * the stores' part sizes, so characters straddle every part boundary; `seed` makes payloads differ.
 */
export function multiByteText(bytes: number, seed = 'a'): string {
  const unit = `${seed}{"é":"日本語","emoji":"😀🎉","n":12345,"ß":"Ω≈ç√"}\n` // 67 bytes: characters of every width
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)))
}

/** Equality of long strings without a megabyte-sized diff in the failure message. */
function expectSameText(actual: string | undefined, expected: string): void {
  expect(actual?.length).toBe(expected.length)
  expect(actual === expected, 'payload differs').toBe(true)
}

/**
 * The behaviour every ShardStore (the `shards` of an AnomalyStore adapter) must show. Each test gets a fresh,
 * empty store from `open`; the suite closes it afterwards and calls `cleanup`.
 */
export function describeShardStoreContract(
  name: string,
  open: (clock: ManualClock) => Promise<{ store: AnomalyStore; cleanup(): Promise<void> }>,
): void {
  describe(`ShardStore contract: ${name}`, () => {
    let owner: AnomalyStore
    let store: ShardStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ store: owner, cleanup } = await open(new ManualClock(NOW)))
      store = owner.shards
    })

    afterEach(async () => {
      await owner.close()
      await cleanup()
    })

    it('stores a result once: a second put of the shard returns false and the first result stays', async () => {
      expect(await store.putResult(shardResult('run-1', 0, 'first'))).toBe(true)
      expect(await store.putResult(shardResult('run-1', 0, 'second, and longer'))).toBe(false)
      expect(await store.putResult(shardResult('run-1', 0, 'first'))).toBe(false)
      expect(await store.results('run-1')).toStrictEqual([shardResult('run-1', 0, 'first')])
      expect(await store.storedIndexes('run-1')).toStrictEqual([0])
    })

    it('returns the results of the run asked for only, by index ascending', async () => {
      for (const [runId, index] of [
        ['run-1', 3],
        ['run-1', 0],
        ['run-10', 1],
        ['run-1', 10],
        ['run-1', 2],
        ['run', 4],
      ] as const) {
        expect(await store.putResult(shardResult(runId, index, `${runId}/${index}`))).toBe(true)
      }
      expect(await store.results('run-1')).toStrictEqual(
        [0, 2, 3, 10].map((i) => shardResult('run-1', i, `run-1/${i}`)),
      )
      expect(await store.results('run-10')).toStrictEqual([shardResult('run-10', 1, 'run-10/1')])
      expect(await store.results('run')).toStrictEqual([shardResult('run', 4, 'run/4')])
      expect(await store.results('run-2')).toStrictEqual([])
    })

    it('lists the stored indexes of the run asked for only, ascending, each once', async () => {
      expect(await store.storedIndexes('run-1')).toStrictEqual([])
      for (const [runId, index] of [
        ['run-1', 12],
        ['run-1', 0],
        ['run-10', 1],
        ['run-1', 999_999],
        ['run-1', 2],
        ['run', 4],
        ['run-1', 100],
      ] as const) {
        expect(await store.putResult(shardResult(runId, index, `${runId}/${index}`))).toBe(true)
      }
      // losing duplicates, one of them large, add no index
      expect(await store.putResult(shardResult('run-1', 2, multiByteText(400_000)))).toBe(false)
      expect(await store.putResult(shardResult('run-1', 12, 'again'))).toBe(false)
      expect(await store.storedIndexes('run-1')).toStrictEqual([0, 2, 12, 100, 999_999])
      expect(await store.storedIndexes('run-10')).toStrictEqual([1])
      expect(await store.storedIndexes('run')).toStrictEqual([4])
      expect(await store.storedIndexes('run-2')).toStrictEqual([])
      expect((await store.results('run-1')).map((r) => r.index)).toStrictEqual([0, 2, 12, 100, 999_999])
    })

    it('round-trips 1.5 MB of multi-byte text, and an empty payload, exactly', async () => {
      const large = multiByteText(1_500_000)
      expect(Buffer.byteLength(large)).toBeGreaterThanOrEqual(1_500_000)
      expect(await store.putResult(shardResult('run-1', 1, large))).toBe(true)
      expect(await store.putResult(shardResult('run-1', 0, ''))).toBe(true)
      const [empty, read] = await store.results('run-1')
      expect(empty).toStrictEqual(shardResult('run-1', 0, ''))
      expect(read?.index).toBe(1)
      expect(read?.ttl).toBe(TTL)
      expectSameText(read?.payload, large)
    })

    it('of two concurrent puts of a shard with different payloads, exactly one wins and is stored whole', async () => {
      for (const index of [0, 1, 2]) {
        const a = multiByteText(700_000 + index * 1000, `a${index}`)
        const b = multiByteText(650_000 + index * 1000, `b${index}`)
        const won = await Promise.all([
          store.putResult(shardResult('run-1', index, a)),
          store.putResult(shardResult('run-1', index, b)),
        ])
        expect(won.filter(Boolean), `shard ${index}: ${won.join(', ')}`).toHaveLength(1)
        const stored = (await store.results('run-1')).find((r) => r.index === index)
        expectSameText(stored?.payload, won[0] ? a : b)
      }
      expect((await store.results('run-1')).map((r) => r.index)).toEqual([0, 1, 2])
      expect(await store.storedIndexes('run-1')).toStrictEqual([0, 1, 2])
    })

    it('gives the finish to one owner until its claim expires; the same owner takes it again', async () => {
      const t = NOW
      expect(await store.claimFinish('run-1', 'a', t, t + 1000)).toBe(true)
      expect(await store.claimFinish('run-1', 'b', t + 500, t + 1500)).toBe(false)
      expect(await store.claimFinish('run-1', 'b', t + 999, t + 1999)).toBe(false)
      // the holder extends its claim
      expect(await store.claimFinish('run-1', 'a', t + 500, t + 2000)).toBe(true)
      expect(await store.claimFinish('run-1', 'b', t + 1500, t + 2500)).toBe(false)
      // expired at exactly `until`
      expect(await store.claimFinish('run-1', 'b', t + 2000, t + 3000)).toBe(true)
      expect(await store.claimFinish('run-1', 'a', t + 2500, t + 3500)).toBe(false)
      // released by its holder (until = now): anyone may take it at once
      expect(await store.claimFinish('run-1', 'b', t + 2600, t + 2600)).toBe(true)
      expect(await store.claimFinish('run-1', 'a', t + 2600, t + 4000)).toBe(true)
      // claims are per run
      expect(await store.claimFinish('run-2', 'b', t + 2600, t + 4000)).toBe(true)
      expect(await store.claimFinish('run-10', 'c', t + 2600, t + 4000)).toBe(true)
    })

    it('of concurrent claims by different owners, exactly one is taken', async () => {
      const owners = ['a', 'b', 'c', 'd']
      const taken = await Promise.all(owners.map((o) => store.claimFinish('run-1', o, NOW, NOW + 60_000)))
      expect(taken.filter(Boolean)).toHaveLength(1)
    })

    it('keeps shard records apart from the run record and the other records of the store', async () => {
      const r = run({ runId: 'run-1', slot: SLOT, startedAt: SLOT + 1000 })
      await owner.saveRun(r)
      expect(await store.putResult(shardResult('run-1', 0, 'x'))).toBe(true)
      expect(await store.claimFinish('run-1', 'a', NOW, NOW + 1000)).toBe(true)
      expect(await owner.getRun('run-1')).toStrictEqual(r)
      expect((await owner.listRuns({ limit: 10 })).items).toStrictEqual([r])
      await owner.saveRun({ ...r, status: 'completed', finishedAt: SLOT + 2000 })
      expect(await store.results('run-1')).toStrictEqual([shardResult('run-1', 0, 'x')])
      expect(await store.storedIndexes('run-1')).toStrictEqual([0])
      expect(await owner.listCustomers()).toEqual([])
      expect(await owner.openIncidents()).toEqual([])
    })

    it('refuses malformed arguments naming the field, and stores nothing', async () => {
      const bad: [Partial<StoredShardResult>, string][] = [
        [{ runId: '' }, 'run_id'],
        [{ index: -1 }, 'index'],
        [{ index: 1.5 }, 'index'],
        [{ index: 1_000_000 }, 'index'],
        [{ ttl: Number.NaN }, 'ttl'],
        [{ payload: 'half an emoji \ud83d' }, 'payload'],
      ]
      for (const [fields, field] of bad) {
        const err = await store
          .putResult({ ...shardResult('run-1', 0, 'x'), ...fields })
          .catch((e: unknown) => e)
        expect(err, field).toBeInstanceOf(ValidationError)
        expect((err as ValidationError).details.map((d) => d.field)).toEqual([field])
      }
      expect(await store.results('run-1')).toEqual([])
      expect(await store.storedIndexes('run-1')).toEqual([])
      await expect(store.results('')).rejects.toBeInstanceOf(ValidationError)
      const tooLong = await store.storedIndexes('r'.repeat(513)).catch((e: unknown) => e)
      expect(tooLong).toBeInstanceOf(ValidationError)
      expect((tooLong as ValidationError).details.map((d) => d.field)).toEqual(['run_id'])
      await expect(store.claimFinish('run-1', '', NOW, NOW + 1)).rejects.toBeInstanceOf(ValidationError)
      await expect(store.claimFinish('run-1', 'a', NOW, Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(
        ValidationError,
      )
      expect(await store.claimFinish('run-1', 'b', NOW, NOW + 1)).toBe(true)
    })
  })
}
