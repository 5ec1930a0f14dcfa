import { describe, expect, it } from 'vitest'
import type { WindowHistory, WindowHistoryRequest } from '../../ports.js'
import { HistoryCache } from './history-cache.js'

// The keeping rules alone (the engine-backed behaviour is test/history-cache.test.ts): a read that overlaps a write
// is returned but never kept, a write drops only its series, the least recently used entry goes first.

const request = (customerId: string, endMs = 7_200_000): WindowHistoryRequest => ({
  customerId,
  metric: 'api_calls',
  aggregation: 'sum',
  window: { startMs: endMs - 3_600_000, endMs },
  stepMs: 86_400_000,
  count: 2,
})
const history = (value: number): WindowHistory => ({
  firstEventHourMs: 0,
  aggregates: [{ value, events: 1 }],
})

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve: (value: T) => void = () => undefined
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('HistoryCache', () => {
  it('keeps a quiet read, and drops it when its series is written', async () => {
    const cache = new HistoryCache()
    let loads = 0
    const load = async () => history(++loads)
    expect(await cache.read(request('a'), load)).toEqual(history(1))
    expect(await cache.read(request('a'), load)).toEqual(history(1))
    cache.writeStarts(new Set(['b\u0000api_calls']))()
    expect(await cache.read(request('a'), load)).toEqual(history(1))
    const done = cache.writeStarts(new Set(['a\u0000api_calls']))
    done()
    expect(await cache.read(request('a'), load)).toEqual(history(2))
  })

  it('does not keep a read that a write started or ended during, nor one begun while writing', async () => {
    const cache = new HistoryCache()
    let loads = 0
    const load = async () => history(++loads)
    // A write of another series starts and ends while the read is in flight.
    const slow = deferred<WindowHistory>()
    const reading = cache.read(request('a'), () => slow.promise)
    cache.writeStarts(new Set(['b\u0000api_calls']))()
    slow.resolve(history(100))
    expect(await reading).toEqual(history(100))
    expect(await cache.read(request('a'), load)).toEqual(history(1))
    // A read begun while a write is in flight, finished after it.
    const done = cache.writeStarts(new Set(['c\u0000api_calls']))
    const during = deferred<WindowHistory>()
    const reading2 = cache.read(request('d'), () => during.promise)
    done()
    during.resolve(history(200))
    expect(await reading2).toEqual(history(200))
    expect(await cache.read(request('d'), load)).toEqual(history(2))
    expect(await cache.read(request('d'), load)).toEqual(history(2))
  })

  it('keeps first hours by the same rules: a quiet read, dropped when the series is written', () => {
    const cache = new HistoryCache()
    const a = 'a\u0000api_calls'
    const b = 'b\u0000api_calls'
    expect(cache.firstHour(a)).toBeUndefined()
    const keep = cache.firstHoursRead()
    keep(a, 3_600_000)
    keep(b, null)
    expect(cache.firstHour(a)).toBe(3_600_000)
    expect(cache.firstHour(b)).toBeNull()
    cache.writeStarts(new Set([b]))()
    expect(cache.firstHour(a)).toBe(3_600_000)
    expect(cache.firstHour(b)).toBeUndefined()
    // A read that a write of any series started or ended during keeps nothing; nor one begun while writing.
    const overlapped = cache.firstHoursRead()
    cache.writeStarts(new Set(['c\u0000api_calls']))()
    overlapped(b, 7)
    expect(cache.firstHour(b)).toBeUndefined()
    const done = cache.writeStarts(new Set(['c\u0000api_calls']))
    const during = cache.firstHoursRead()
    done()
    during(b, 7)
    expect(cache.firstHour(b)).toBeUndefined()
    cache.clear()
    expect(cache.firstHour(a)).toBeUndefined()
  })

  it('evicts the least recently used entry past its capacity', async () => {
    const cache = new HistoryCache(2)
    let loads = 0
    const load = async () => history(++loads)
    await cache.read(request('a'), load) // 1
    await cache.read(request('b'), load) // 2
    await cache.read(request('a'), load) // hit: b is now the oldest
    await cache.read(request('c'), load) // 3, evicts b
    expect(cache.size).toBe(2)
    expect(await cache.read(request('a'), load)).toEqual(history(1))
    expect(await cache.read(request('b'), load)).toEqual(history(4))
  })
})
