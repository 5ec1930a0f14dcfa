import type { WindowHistoryRequest } from '../../ports.js'
import { historyStart } from './window-history.js'

/** Reads one query answers at most: bounds its parameters and the metrics x customers it reads. */
export const MAX_BATCHED_READS = 32

/**
 * A batch reads every hour from its oldest request's start to its newest request's end for each of its series:
 * a request joins a batch only while that span stays within this many times the longest span it holds, so a
 * request for a year does not make a batch of month-long ones read a year each.
 */
const SPAN_FACTOR = 2

interface Waiting<R, T> {
  request: R
  resolve: (result: T) => void
  reject: (err: unknown) => void
}

/**
 * Which waiting requests may share a query with the first one: a new batch's test, called for each request in
 * arrival order (the first included), that says whether it joins (and remembers those that did).
 */
export type BatchJoin<R> = () => (request: R) => boolean

/**
 * Reads that wait for the engine go together. The embedded engine runs one parameterized query at a time (chDB
 * serialises them process-wide), and a check's query costs its planning and setup far more than its rows: so while
 * one read runs, the reads that arrive wait here instead of in the engine's queue, and go as one query when it is
 * done (measured on the bench's data: ~10 ms of CPU for one series' window history, ~14 ms for five). A read that
 * finds nothing running goes at once (in the next microtask, with whatever arrived in the same tick): one check
 * alone waits for nothing. Each read gets exactly what its own query would have given. Against a ClickHouse server,
 * which runs queries side by side, `oneAtATime` is off and each read goes alone.
 */
export class QueryBatcher<R, T> {
  private waiting: Waiting<R, T>[] = []
  private reading = false

  constructor(
    private readonly readAll: (requests: R[]) => Promise<T[]>,
    private readonly oneAtATime: boolean,
    private readonly join: BatchJoin<R>,
  ) {}

  async read(request: R): Promise<T> {
    if (!this.oneAtATime) return (await this.readAll([request]))[0] as T
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject })
      if (!this.reading) {
        this.reading = true
        queueMicrotask(() => void this.drain())
      }
    })
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.takeBatch()
      try {
        const results = await this.readAll(batch.map((w) => w.request))
        for (const [i, w] of batch.entries()) w.resolve(results[i] as T)
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
    this.reading = false
  }

  /** Removes and returns the next batch: at most MAX_BATCHED_READS waiting reads that join, in arrival order. */
  private takeBatch(): Waiting<R, T>[] {
    const batch: Waiting<R, T>[] = []
    const rest: Waiting<R, T>[] = []
    const joins = this.join()
    for (const w of this.waiting) {
      if (batch.length < MAX_BATCHED_READS && joins(w.request)) batch.push(w)
      else rest.push(w)
    }
    this.waiting = rest
    return batch
  }
}

/** Window histories join while the batch's span stays within SPAN_FACTOR of the longest span it holds. */
export const historiesJoin: BatchJoin<WindowHistoryRequest> = () => {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  let longest = 0
  let empty = true
  return (request) => {
    const start = historyStart(request)
    const end = request.window.endMs
    const span = Math.max(hi, end) - Math.min(lo, start)
    if (!empty && span > SPAN_FACTOR * Math.max(longest, end - start)) return false
    empty = false
    lo = Math.min(lo, start)
    hi = Math.max(hi, end)
    longest = Math.max(longest, end - start)
    return true
  }
}
