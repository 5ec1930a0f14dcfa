import type { ClickHouseClient } from '@clickhouse/client'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import { connectRedisPipeline } from '../src/adapters/redis/client.js'
import { dayElement, dayIndex, seriesKey } from '../src/adapters/redis/days.js'
import { RedisVectorIndex } from '../src/adapters/redis/vector-index.js'
import { chunkShapes } from '../src/app/chunk-shapes.js'
import { embeddedVectorIndex } from '../src/app/embedded-vector-index.js'
import { DEFAULT_SHAPE_CONFIG } from '../src/domain/signals/shape/shape-settings.js'
import {
  CONTRACT_SLOTS,
  contractEvents,
  describeVectorIndexContract,
} from './contract/vector-index.contract.js'
import { tempDataDir, testConfig } from './helpers.js'
import { RespStandIn } from './resp-stand-in.js'

// Both shape indexes against the contract (test/contract/vector-index.contract.ts) on chDB. The Redis run needs a
// Redis with Vector Sets (Redis >= 8) at METERFLOW_TEST_REDIS_URL; without one it is skipped, saying why.

const data = tempDataDir()
let client: ClickHouseClient
let databases = 0
const events = contractEvents()

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
})

afterAll(async () => {
  await client?.close()
  data.remove()
})

/** A fresh database holding the contract's events (each contract test gets its own: late events mutate it). */
async function freshUsage(): Promise<ClickHouseUsageStore> {
  const database = `vindex${++databases}`
  await migrate(client, database)
  const usage = new ClickHouseUsageStore(client, database, 2)
  for (let i = 0; i < events.length; i += 5_000) await usage.insertEvents(events.slice(i, i + 5_000))
  return usage
}

describeVectorIndexContract('embedded', async () => {
  const usage = await freshUsage()
  return { index: embeddedVectorIndex(usage), usage, cleanup: async () => undefined }
})

// The Redis adapter's own logic (days, stitching, read-through, write-back, late events) on the same contract, always:
// over the local RESP stand-in, which keeps vectors exactly and has no VSIM (so nearest is computed, not searched).
// It is not the Redis run: float32 storage and VSIM are only exercised by a real server below.
const standIn = new RespStandIn()
beforeAll(async () => {
  await standIn.start()
})
afterAll(async () => {
  await standIn.stop()
})
describeVectorIndexContract('redis adapter over a local RESP stand-in (exact vectors, no VSIM)', async () => {
  const usage = await freshUsage()
  const pipeline = await connectRedisPipeline({ url: `redis://127.0.0.1:${standIn.port}` })
  const index = new RedisVectorIndex(pipeline, usage, {
    keyPrefix: `standin${databases}:`,
    retentionWeeks: 8,
    maxPipeline: 1_000,
  })
  return { index, usage, cleanup: () => index.close() }
})

const REDIS_URL = process.env.METERFLOW_TEST_REDIS_URL
const skipReason = await redisSkipReason(REDIS_URL)

async function redisSkipReason(url: string | undefined): Promise<string | null> {
  if (!url) return 'METERFLOW_TEST_REDIS_URL is not set'
  const probe = createClient({ url, socket: { connectTimeout: 3_000, reconnectStrategy: false } })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    const info = (await probe.sendCommand(['COMMAND', 'INFO', 'VADD'])) as unknown[]
    return Array.isArray(info) && info[0]
      ? null
      : `the Redis at ${url} has no Vector Sets (COMMAND INFO VADD is empty; Redis >= 8 needed)`
  } catch (err) {
    return `the Redis at ${url} is unreachable (${(err as Error).message})`
  } finally {
    if (probe.isOpen) await probe.close()
  }
}

if (skipReason !== null) {
  describe.skip(`VectorIndex contract: redis — skipped: ${skipReason}`, () => {
    it('runs where a Redis with Vector Sets is reachable', () => undefined)
  })
} else {
  const url = REDIS_URL as string
  let prefixes = 0
  const openRedis = async (usage: ClickHouseUsageStore) => {
    // A prefix per test: runs never see each other's sets.
    const keyPrefix = `meterflow-test:${process.pid}:${Date.now()}:${++prefixes}:`
    const index = new RedisVectorIndex(await connectRedisPipeline({ url }), usage, {
      keyPrefix,
      retentionWeeks: 8,
      maxPipeline: 1_000,
    })
    return { index, keyPrefix }
  }
  const raw = createClient({ url })
  raw.on('error', () => undefined)
  beforeAll(async () => {
    await raw.connect()
  })
  afterAll(async () => {
    for await (const keys of raw.scanIterator({ MATCH: `meterflow-test:${process.pid}:*`, COUNT: 1000 }))
      if (keys.length > 0) await raw.del(keys)
    await raw.close()
  })

  describeVectorIndexContract('redis', async () => {
    const usage = await freshUsage()
    const { index } = await openRedis(usage)
    return { index, usage, cleanup: () => index.close() }
  })

  describe('Redis index: eviction and retention', () => {
    const series = [{ customerId: 'normal', metric: 'api_calls' }]
    const metrics = [{ name: 'api_calls', aggregation: 'sum' as const }]

    it('reads an evicted baseline day through the rollup, with the same verdict, and writes it back', async () => {
      const usage = await freshUsage()
      const { index, keyPrefix } = await openRedis(usage)
      try {
        const [slot] = CONTRACT_SLOTS
        const first = await chunkShapes(index, slot, DEFAULT_SHAPE_CONFIG, metrics, series)
        const key = seriesKey(keyPrefix, 'normal', 'api_calls')
        const evicted = dayElement(dayIndex(slot - DAY_MS) - 14)
        expect(await raw.sendCommand(['VREM', key, evicted])).toBe(1)
        const again = await chunkShapes(index, slot, DEFAULT_SHAPE_CONFIG, metrics, series)
        expect(again.get('normal\u0000api_calls')?.evaluation).toEqual(
          first.get('normal\u0000api_calls')?.evaluation,
        )
        expect(await raw.sendCommand(['VEMB', key, evicted])).not.toBeNull()
      } finally {
        await index.close()
      }
    })

    it('removes days past retention with VREM', async () => {
      const usage = await freshUsage()
      const { index, keyPrefix } = await openRedis(usage)
      try {
        const [slot] = CONTRACT_SLOTS
        const key = seriesKey(keyPrefix, 'normal', 'api_calls')
        const expired = dayIndex(slot) - 1 - 8 * 7
        const values = Array.from({ length: 24 }, () => '1')
        await raw.sendCommand(['VADD', key, 'VALUES', '24', ...values, dayElement(expired), 'NOQUANT'])
        await chunkShapes(index, slot, DEFAULT_SHAPE_CONFIG, metrics, series)
        expect(await raw.sendCommand(['VEMB', key, dayElement(expired)])).toBeNull()
      } finally {
        await index.close()
      }
    })
  })
}

const DAY_MS = 86_400_000
