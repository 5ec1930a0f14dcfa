import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from '../src/adapters/clickhouse/usage-store.js'
import type { UsageEvent } from '../src/domain/events.js'
import { type CustomerRange, inRange } from '../src/domain/shard.js'
import { ValidationError } from '../src/errors.js'
import type { SeriesWindows } from '../src/ports.js'
import { tempDataDir, testConfig } from './helpers.js'
import { extra, type RawEvent, steadyDaily } from './usage-fixtures.js'

// The shards of a sharded run (customerRanges) and a shard's series (seriesWindows with a range) on the embedded
// engine: the shards partition the customers, and their series together are exactly the unsharded run's.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
const METRICS = [
  { name: 'api_calls', aggregation: 'sum' as const },
  { name: 'storage_peak', aggregation: 'max' as const },
]

const data = tempDataDir()
let client: ClickHouseClient
let databases = 0

beforeAll(async () => {
  client = await createClickHouseClient(testConfig(data.dir))
})
afterAll(async () => {
  // The stores share this client: closing it once closes them all.
  await client?.close()
  data.remove()
})

/** A store on a fresh, empty database of the shared engine. */
async function freshStore(
  customersPerChunk?: number,
): Promise<{ database: string; store: ClickHouseUsageStore }> {
  const database = `ranges_${++databases}`
  await migrate(client, database)
  return { database, store: new ClickHouseUsageStore(client, database, customersPerChunk) }
}

function toEvents(raw: readonly RawEvent[]): UsageEvent[] {
  return raw.map((e) => ({
    eventId: e.event_id,
    customerId: e.customer_id,
    metric: e.metric,
    value: e.value,
    timestampMs: Date.parse(e.timestamp),
  }))
}

/** Both metrics for every customer, a spike for some, and one customer whose only usage is long ago. */
async function load(store: ClickHouseUsageStore, customers: readonly string[]): Promise<void> {
  const raw = [
    ...steadyDaily(customers, END),
    ...steadyDaily(
      customers.filter((_, i) => i % 3 !== 1),
      END,
      32,
      'storage_peak',
    ),
    ...extra(
      customers.filter((_, i) => i % 4 === 0),
      END - 2 * HOUR,
      50_000,
    ),
    ...extra(['long-gone'], END - 90 * DAY, 7),
  ]
  for (let i = 0; i < raw.length; i += 5_000) await store.insertEvents(toEvents(raw.slice(i, i + 5_000)))
}

async function collect(store: ClickHouseUsageStore, range?: CustomerRange): Promise<SeriesWindows[][]> {
  const chunks: SeriesWindows[][] = []
  for await (const chunk of store.seriesWindows(END, 30, METRICS, range)) chunks.push(chunk)
  return chunks
}

const key = (s: SeriesWindows) => `${s.customerId}\u0000${s.metric}`
const sorted = (series: readonly SeriesWindows[]) =>
  [...series].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))

/** The checks every split must pass; returns each customer's range index. */
function expectPartition(
  ranges: readonly CustomerRange[],
  customers: readonly string[],
  count: number,
  { contains = inRange, split = true }: { contains?: typeof inRange; split?: boolean } = {},
): number[] {
  if (split) expect(ranges.length).toBe(Math.max(1, Math.min(count, customers.length)))
  expect(ranges[0]?.from).toBe('')
  expect(ranges[ranges.length - 1]?.to).toBe('')
  ranges.slice(1).forEach((r, i) => {
    expect(r.from, 'consecutive').toBe(ranges[i]?.to)
    expect(r.from, 'no empty range').not.toBe('')
  })
  const owner = customers.map((id) => {
    const holders = ranges.flatMap((r, i) => (contains(id, r) ? [i] : []))
    expect(holders, id).toHaveLength(1)
    return holders[0] as number
  })
  // Customers that appear after the split land wherever their id sorts: only the split itself is even.
  if (split && customers.length > 0) {
    const sizes = ranges.map((_, i) => owner.filter((o) => o === i).length)
    expect(Math.max(...sizes) - Math.min(...sizes), `sizes ${sizes.join(',')}`).toBeLessThanOrEqual(1)
  }
  return owner
}

// Ids that are prefixes of each other, and punctuation on both sides of letters and digits in byte order.
const CUSTOMERS = [
  ...Array.from({ length: 17 }, (_, i) => `cust-${String(i).padStart(3, '0')}`),
  'a',
  'ab',
  'abc',
  'a-1',
  'A',
  'Z',
  '!first',
  '~last',
  'cust-00',
  'cust-0',
]
const ALL_IDS = [...CUSTOMERS, 'long-gone']

describe('customer ranges and sharded series on the embedded engine', () => {
  let store: ClickHouseUsageStore
  let database: string
  let whole: SeriesWindows[]

  beforeAll(async () => {
    ;({ store, database } = await freshStore())
    await load(store, CUSTOMERS)
    whole = (await collect(store)).flat()
  })

  it('the fixture has what the comparisons need', () => {
    // every customer has api_calls, two thirds have storage_peak; long-gone has no usage in the period
    expect(whole.length).toBe(CUSTOMERS.length + CUSTOMERS.filter((_, i) => i % 3 !== 1).length)
    expect(whole.some((s) => s.customerId === 'long-gone')).toBe(false)
  })

  for (const count of [1, 2, 3, 5, 7, ALL_IDS.length - 1, ALL_IDS.length, ALL_IDS.length + 1, 100]) {
    it(`splits ${ALL_IDS.length} customers into ${count} ranges that partition them evenly`, async () => {
      expectPartition(await store.customerRanges(count), ALL_IDS, count)
    })
  }

  for (const [count, perChunk] of [
    [1, undefined],
    [3, undefined],
    [4, 2],
    // shards of 5 and 6 customers, some starting at odd positions: chunk bounds of the whole customer set would
    // cut such a shard into one chunk more than it needs
    [5, 2],
    [7, 2],
    [3, 1],
    [ALL_IDS.length + 5, 3],
  ] as const) {
    it(`gives the unsharded series, value for value, over ${count} shards (chunks of ${perChunk ?? 'default'})`, async () => {
      const chunked = new ClickHouseUsageStore(client, database, perChunk)
      const ranges = await chunked.customerRanges(count)
      const owner = expectPartition(ranges, ALL_IDS, count)
      const shards: SeriesWindows[] = []
      for (const [i, range] of ranges.entries()) {
        const chunks = await collect(chunked, range)
        const series = chunks.flat()
        for (const s of series)
          expect(inRange(s.customerId, range), `${s.customerId} in shard ${i}`).toBe(true)
        if (perChunk !== undefined) {
          // The chunks are cut inside the shard: full-size chunks, as few as the shard's customers need.
          const customers = owner.filter((o) => o === i).length
          expect(chunks.length, `chunks of shard ${i}`).toBe(Math.max(1, Math.ceil(customers / perChunk)))
          for (const chunk of chunks) {
            expect(new Set(chunk.map((s) => s.customerId)).size).toBeLessThanOrEqual(perChunk)
          }
        }
        shards.push(...series)
      }
      expect(shards.length).toBe(whole.length)
      expect(sorted(shards)).toStrictEqual(sorted(whole))
    })
  }

  it('places customers that appear after the split in exactly one range, and their series in that shard', async () => {
    const ranges = await store.customerRanges(4)
    const late = ['0-early-digit', 'aa', 'zzz-late', '!', 'cust-0005', 'cust-016x']
    await load(store, late)
    expectPartition(ranges, [...ALL_IDS, ...late], 4, { split: false })
    const now = (await collect(store)).flat()
    const shards = (await Promise.all(ranges.map((r) => collect(store, r)))).flat(2)
    expect(sorted(shards)).toStrictEqual(sorted(now))
    for (const id of late)
      expect(
        shards.some((s) => s.customerId === id),
        id,
      ).toBe(true)
  })

  it('refuses a count that is not a whole number from 1 to 10,000, naming the field', async () => {
    for (const count of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 10_001]) {
      const err = await store.customerRanges(count).catch((e: unknown) => e)
      expect(err, String(count)).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).details[0]?.field).toBe('count')
    }
    expect(await store.customerRanges(10_000)).toHaveLength(ALL_IDS.length + 6)
  })
})

describe('customer ranges at the edges', () => {
  it('with no customers: one range over everything, and no series in it', async () => {
    const { store } = await freshStore()
    for (const count of [1, 2, 50])
      expect(await store.customerRanges(count)).toStrictEqual([{ from: '', to: '' }])
    expect((await collect(store, { from: '', to: '' })).flat()).toEqual([])
    expect((await collect(store, { from: 'm', to: 'n' })).flat()).toEqual([])
  })

  it('with one customer: one range over everything, holding its series', async () => {
    const { store } = await freshStore(1)
    await store.insertEvents(toEvents(steadyDaily(['solo'], END)))
    for (const count of [1, 2, 8])
      expect(await store.customerRanges(count)).toStrictEqual([{ from: '', to: '' }])
    const series = (await collect(store, { from: '', to: '' })).flat()
    expect(series.map((s) => [s.customerId, s.metric])).toEqual([['solo', 'api_calls']])
    expect(series).toStrictEqual((await collect(store)).flat())
  })

  it('a range that holds no customer yields no series; one past the last customer neither', async () => {
    const { store } = await freshStore(2)
    await load(store, ['b', 'd', 'f'])
    expect((await collect(store, { from: 'b0', to: 'c' })).flat()).toEqual([])
    expect((await collect(store, { from: 'g', to: '' })).flat()).toEqual([])
    expect((await collect(store, { from: 'c', to: 'e' })).flat().map((s) => s.customerId)).toEqual(['d'])
  })

  it('splits ids beyond ASCII by their UTF-8 bytes (ClickHouse string order), losing and repeating none', async () => {
    // The ingest API accepts printable ASCII ids only; a store holding others (written by an older version or
    // another writer) must still be partitioned. ClickHouse compares bytes: for UTF-8 that is code point order,
    // which JS string order (UTF-16 code units) matches below U+D800 but not for astral characters.
    const unicode = [
      'é',
      'e',
      'ée',
      'ü',
      '日本',
      '日',
      '日本語',
      'Ω',
      'ω',
      'a',
      'ab',
      '😀',
      '😀x',
      '\uffee',
      'z',
    ]
    const { store } = await freshStore(2)
    await load(store, unicode)
    const all = [...unicode, 'long-gone']
    const whole = (await collect(store)).flat()
    const bytes = (id: string, r: CustomerRange) => {
      const b = Buffer.from(id)
      return (
        Buffer.compare(b, Buffer.from(r.from)) >= 0 &&
        (r.to === '' || Buffer.compare(b, Buffer.from(r.to)) < 0)
      )
    }
    for (const count of [2, 3, 5, all.length]) {
      const ranges = await store.customerRanges(count)
      expectPartition(ranges, all, count, { contains: bytes })
      const shards = (await Promise.all(ranges.map((r) => collect(store, r)))).flat(2)
      expect(sorted(shards)).toStrictEqual(sorted(whole))
      for (const s of shards) expect(unicode).toContain(s.customerId)
    }
  })
})
