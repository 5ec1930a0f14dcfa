import type { WindowHistory, WindowHistoryRequest } from '../../ports.js'
import { historyStart } from './window-history.js'

/** Requests one query answers at most: bounds its parameters and the metrics x customers it reads. */
export const MAX_BATCHED_HISTORIES = 32

/**
 * A batch reads every hour from its oldest request's start to its newest request's end for each of its series:
 * a request joins a batch only while that span stays within this many times the longest span it holds, so a
 * request for a year does not make a batch of month-long ones read a year each.
 */
const SPAN_FACTOR = 2

interface Waiting {
  request: WindowHistoryRequest
  resolve: (history: WindowHistory) => void
  reject: (err: unknown) => void
}

/**
 * Window-history reads (the check's one query) that wait for the engine go together. The embedded engine runs one
 * parameterized query at a time (chDB serialises them process-wide), and a check's query costs its planning and
 * setup far more than its rows: so while one read runs, the reads that arrive wait here instead of in the engine's
 * queue, and go as one query when it is done (measured on the bench's data: ~10 ms of CPU for one series, ~14 ms for
 * five). A read that finds nothing running goes at once (in the next microtask, with whatever arrived in the same
 * tick): one check alone waits for nothing. Each read gets exactly the history its own query would have given.
 * Against a ClickHouse server, which runs queries side by side, `oneAtATime` is off and each read goes alone.
 */
export class HistoryBatcher {
  private waiting: Waiting[] = []
  private reading = false

  constructor(
    private readonly readAll: (requests: WindowHistoryRequest[]) => Promise<WindowHistory[]>,
    private readonly oneAtATime: boolean,
  ) {}

  async read(request: WindowHistoryRequest): Promise<WindowHistory> {
    if (!this.oneAtATime) return (await this.readAll([request]))[0] as WindowHistory
    return new Promise<WindowHistory>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject })
      if (!this.reading) {
        this.reading = true
        queueMicrotask(() => void this.drain())
      }
    })
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = takeBatch(this.waiting)
      try {
        const histories = await this.readAll(batch.map((w) => w.request))
        for (const [i, w] of batch.entries()) w.resolve(histories[i] as WindowHistory)
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
    this.reading = false
  }
}

/**
 * Removes and returns the next batch: the first waiting read and those after it that fit (at most
 * MAX_BATCHED_HISTORIES, and within SPAN_FACTOR of the longest span), in arrival order.
 */
function takeBatch(waiting: Waiting[]): Waiting[] {
  const batch: Waiting[] = []
  const rest: Waiting[] = []
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  let longest = 0
  for (const w of waiting) {
    const start = historyStart(w.request)
    const end = w.request.window.endMs
    const span = Math.max(hi, end) - Math.min(lo, start)
    const fits = batch.length === 0 || span <= SPAN_FACTOR * Math.max(longest, end - start)
    if (batch.length < MAX_BATCHED_HISTORIES && fits) {
      batch.push(w)
      lo = Math.min(lo, start)
      hi = Math.max(hi, end)
      longest = Math.max(longest, end - start)
    } else {
      rest.push(w)
    }
  }
  waiting.splice(0, waiting.length, ...rest)
  return batch
}
