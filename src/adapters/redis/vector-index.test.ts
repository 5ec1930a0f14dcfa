import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RespStandIn } from '../../../test/resp-stand-in.js'
import { ALL_CUSTOMERS } from '../../domain/shard.js'
import { profileFromHourly, profileWindows } from '../../domain/signals/shape/profile.js'
import type { SeriesProfiles, ShapeProfileRequest, UsageStore } from '../../ports.js'
import { connectRedisPipeline, openRedisVectorIndex, redactedUrl } from './client.js'
import { dayElement, dayIndex, seriesKey } from './days.js'
import { type RedisPipeline, RedisVectorIndex } from './vector-index.js'

// The adapter against a tiny local RESP server that records every command the real node-redis client sends and
// keeps VADDed vectors for VEMB (exactly: no float32, no normalization; VSIM is not emulated and answers nothing).
// It proves the batching (N series -> a bounded number of pipelines), the read-through of missing days and the
// write-back, in both protocol versions. The rollup is an in-memory stand-in for UsageStore.shapeProfiles.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const SLOT = Date.UTC(2026, 10, 25, 6)
const METRICS = [{ name: 'api_calls', aggregation: 'sum' as const }]
const CUSTOMERS = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}:{x}`)

/** Hourly usage of one customer: its own busy hours, every day. */
const usageAt = (customer: string, t: number) => {
  const hour = new Date(t).getUTCHours()
  const busy = Number(customer.slice(1, 3)) % 24
  return hour === busy || hour === (busy + 1) % 24 ? 50 : 1
}

/** The rollup's answer computed here: the windows of shapeProfiles from the hourly values above. */
function memoryRollup(calls: number[][]): Pick<UsageStore, 'shapeProfiles'> {
  return {
    async *shapeProfiles(slot, weeks) {
      calls.push([slot, weeks])
      const windows = profileWindows(slot, weeks)
      const chunk: SeriesProfiles[] = CUSTOMERS.map((customerId) => {
        const profile = (w: { start: number; end: number }) =>
          profileFromHourly(
            Array.from({ length: 24 }, (_, i) => ({
              hour: w.start + i * HOUR,
              value: usageAt(customerId, w.start + i * HOUR),
            })),
            w,
          )
        return {
          customerId,
          metric: 'api_calls',
          slot,
          current: profile(windows.current),
          baseline: windows.baseline.map(profile),
        }
      })
      yield { range: ALL_CUSTOMERS, profiles: chunk }
    },
  }
}

const request = (slot: number): ShapeProfileRequest => ({
  slot,
  weeks: 4,
  metrics: METRICS,
  range: { from: '', to: '' },
  series: CUSTOMERS.map((customerId) => ({ customerId, metric: 'api_calls' })),
  nearest: null,
})

async function collect(index: RedisVectorIndex, slot: number): Promise<SeriesProfiles[]> {
  const out: SeriesProfiles[] = []
  for await (const chunk of index.profiles(request(slot))) out.push(...chunk)
  return out
}

for (const resp of [2, 3] as const) {
  describe(`RedisVectorIndex over a local RESP server (RESP${resp})`, () => {
    const fake = new RespStandIn()
    let pipeline: RedisPipeline
    const batches: number[] = []

    beforeAll(async () => {
      await fake.start()
      const real = await connectRedisPipeline({ url: `redis://127.0.0.1:${fake.port}`, resp })
      pipeline = {
        exec: (commands) => {
          batches.push(commands.length)
          return real.exec(commands)
        },
        close: () => real.close(),
      }
    })

    afterAll(async () => {
      await pipeline.close()
      await fake.stop()
    })

    it('on an empty Redis: reads the missing days through the rollup in a bounded number of pipelines', async () => {
      const calls: number[][] = []
      const index = new RedisVectorIndex(pipeline, memoryRollup(calls), {
        keyPrefix: 'mf:',
        retentionWeeks: 8,
        maxPipeline: 10_000,
      })
      const profiles = await collect(index, SLOT)
      const expected = new Map<string, SeriesProfiles>()
      for await (const chunk of memoryRollup([]).shapeProfiles(SLOT, 4, METRICS))
        for (const p of chunk.profiles) expected.set(p.customerId, p)
      // The same profiles as the rollup gives for the slot (window across midnight, stitched from days).
      expect(profiles).toHaveLength(CUSTOMERS.length)
      for (const p of profiles) {
        const e = expected.get(p.customerId) as SeriesProfiles
        expect(p.current).toEqual(e.current)
        expect(p.baseline).toEqual(e.baseline)
      }
      // 40 series: one pipeline for upserts + VEMBs, one for the write-back, never one per series.
      expect(batches).toEqual([40 * (1 + 2 + 1 + 8), 40 * 8])
      // Rollup: the window's two days, then one read-through query per window position (two days per window).
      expect(calls).toEqual([
        [dayIndex(SLOT) * DAY, 0],
        [(dayIndex(SLOT) + 1) * DAY, 0],
        [dayIndex(SLOT) * DAY, 4],
        [(dayIndex(SLOT) + 1) * DAY, 4],
      ])
      const key = seriesKey('mf:', CUSTOMERS[0] as string, 'api_calls')
      expect(key).toBe('mf:c00%3A%7Bx%7D:api_calls')
      // The complete day of the window plus the 8 baseline days were written; the partial day (today) was not.
      expect([...(fake.sets.get(key)?.keys() ?? [])].sort()).toEqual(
        [1, 2, 3, 4]
          .flatMap((w) => [dayIndex(SLOT) - 1 - 7 * w, dayIndex(SLOT) - 7 * w])
          .concat([dayIndex(SLOT) - 1])
          .sort((a, b) => a - b)
          .map(dayElement),
      )
      const first = fake.commands.find((c) => c[0] === 'VADD') as string[]
      expect(first.slice(-4, -1)).toEqual([dayElement(dayIndex(SLOT) - 1), 'NOQUANT', 'SETATTR'])
      expect(fake.commands.filter((c) => c[0] === 'VREM').map((c) => c[2])).toContain(
        dayElement(dayIndex(SLOT) - 1 - 56),
      )
    })

    it('the next hour: every baseline day comes from Redis, the rollup answers only the window', async () => {
      batches.length = 0
      const calls: number[][] = []
      const index = new RedisVectorIndex(pipeline, memoryRollup(calls), {
        keyPrefix: 'mf:',
        retentionWeeks: 8,
        maxPipeline: 100,
      })
      const profiles = await collect(index, SLOT + HOUR)
      expect(profiles).toHaveLength(CUSTOMERS.length)
      expect(calls).toEqual([
        [dayIndex(SLOT) * DAY, 0],
        [(dayIndex(SLOT) + 1) * DAY, 0],
      ])
      // One logical pipeline of 480 commands, sent as ceil(480 / 100) batches of at most maxPipeline.
      expect(batches).toEqual([100, 100, 100, 100, 80])
    })
  })
}

describe('opening the Redis index', () => {
  it('refuses a server without Vector Sets with a clear error, without the password', async () => {
    const server = new RespStandIn()
    await server.start()
    try {
      const url = `redis://:s3cret@127.0.0.1:${server.port}`
      const open = openRedisVectorIndex({ url }, memoryRollup([]), {
        keyPrefix: 'p:',
        retentionWeeks: 8,
        maxPipeline: 100,
      })
      await expect(open).rejects.toThrow(
        /has no Vector Sets \(COMMAND INFO VADD is empty\): it needs Redis 8/,
      )
      await expect(open).rejects.not.toThrow(/s3cret/)
    } finally {
      await server.stop()
    }
  })

  it('redacts the password of a URL', () => {
    expect(redactedUrl('redis://user:pw@host:6379/0')).toBe('redis://user:***@host:6379/0')
    expect(redactedUrl('not a url')).toBe('(invalid URL)')
  })
})
