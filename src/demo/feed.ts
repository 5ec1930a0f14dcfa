import type { IngestResult } from '../app/ingest.js'
import { floorToHour, HOUR_MS } from '../domain/time.js'
import type { Clock, UsageStore } from '../ports.js'
import { DEFAULT_BATCH_SIZE, DEMO_METRICS, type DemoDataset, liveHourEvents } from './generator.js'
import { toApiEvent } from './load.js'

export interface DemoFeedDeps {
  /** The demo data this store holds (regenerated from its options: generation is deterministic). */
  dataset: DemoDataset
  /** Where the feed looks up which of its hours are stored. */
  usage: Pick<UsageStore, 'aggregateWindows'>
  /** The ingest use case of POST /v1/events: the feed's events are validated and stored like anyone's. */
  ingest(batch: Record<string, unknown>[]): Promise<IngestResult>
  clock: Clock
  batchSize?: number
}

/** What one pass of the feed wrote. */
export interface FeedPass {
  hours: number
  stored: number
  duplicates: number
  conflicts: number
  /** The exclusive end of the demo hours written: the end of the current hour. */
  through: number
}

/**
 * Keeps the demo's usage going while the service runs: every hour from the end of the demo data up to the end of the
 * current hour gets its events (liveHourEvents), the way the start-up load wrote the current hour, so the run of a
 * slot always finds its last hour complete. At most the demo's own length (`days`) is written after a long stop.
 *
 * Exactly once: ids are per customer, metric and hour (the store keeps an id once), and each hour is written in
 * order with the last customer's last metric last, so that event being stored means its hour is (open() checks it).
 * Passes are serialized: one asked for while another runs waits for it, then writes what is still missing.
 */
export class DemoFeed {
  readonly #deps: DemoFeedDeps
  readonly #maxHours: number
  /** Hours before #cursor found missing at open(), oldest first. */
  #missing: number[]
  /** Every hour from here on is still to be written. */
  #cursor: number
  #queue: Promise<unknown> = Promise.resolve()
  #stopped = false

  private constructor(deps: DemoFeedDeps, missing: number[], cursor: number) {
    this.#deps = deps
    this.#maxHours = deps.dataset.options.days * 24
    this.#missing = missing
    this.#cursor = cursor
  }

  /**
   * A feed for the dataset, or null when this store does not hold its data (its last event is absent: another store,
   * or a load cut short). Finds the hours since the end of the data that are missing, within the last `days`.
   */
  static async open(deps: DemoFeedDeps): Promise<DemoFeed | null> {
    const { endMs, days } = deps.dataset.options
    const target = floorToHour(deps.clock.now()) + HOUR_MS
    const from = Math.max(endMs, target - days * 24 * HOUR_MS)
    const hours: number[] = []
    for (let h = from; h < target; h += HOUR_MS) hours.push(h)
    const stored = await DemoFeed.#storedHours(deps, [endMs - HOUR_MS, ...hours])
    if (!stored[0]) return null
    const missing = hours.filter((_, i) => !stored[i + 1])
    return new DemoFeed(deps, missing, Math.max(target, endMs))
  }

  /** For each hour: whether the marker event (the hour's last) is stored. One query. */
  static async #storedHours(deps: DemoFeedDeps, hours: number[]): Promise<boolean[]> {
    const last = deps.dataset.customers.at(-1)
    const metric = DEMO_METRICS.at(-1)
    if (!last || !metric) return hours.map(() => false)
    const windows = hours.map((h) => ({ startMs: h, endMs: h + HOUR_MS }))
    const aggregates = await deps.usage.aggregateWindows(last.customerId, metric, 'max', windows)
    return aggregates.map((a) => a.events > 0)
  }

  /** Writes every missing demo hour up to the end of the current hour (bounded by `days`). */
  catchUp(): Promise<FeedPass> {
    const pass = this.#queue.then(() => this.#pass())
    this.#queue = pass.catch(() => undefined)
    return pass
  }

  /** No pass starts after this; resolves when the one in flight has stopped (between batches). */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#queue
  }

  async #pass(): Promise<FeedPass> {
    const target = floorToHour(this.#deps.clock.now()) + HOUR_MS
    const result: FeedPass = { hours: 0, stored: 0, duplicates: 0, conflicts: 0, through: target }
    if (this.#stopped) return result
    const oldest = target - this.#maxHours * HOUR_MS
    const hours = this.#missing.filter((h) => h >= oldest && h < target)
    for (let h = Math.max(this.#cursor, oldest); h < target; h += HOUR_MS) hours.push(h)

    const batchSize = this.#deps.batchSize ?? DEFAULT_BATCH_SIZE
    let batch: Record<string, unknown>[] = []
    let completing: number[] = [] // hours whose last event is in `batch`
    const flush = async () => {
      const stored = await this.#deps.ingest(batch)
      result.stored += stored.stored
      result.duplicates += stored.duplicates
      result.conflicts += stored.conflicts
      for (const h of completing) this.#written(h)
      result.hours += completing.length
      batch = []
      completing = []
    }
    for (const hour of hours) {
      if (this.#stopped) break
      const events = liveHourEvents(this.#deps.dataset, hour)
      events.forEach((event, i) => {
        batch.push(toApiEvent(event))
        if (i === events.length - 1) completing.push(hour)
      })
      while (batch.length >= batchSize) {
        const rest = batch.splice(batchSize)
        const restCompleting = rest.length > 0 ? completing.splice(-1) : []
        await flush()
        batch = rest
        completing = restCompleting
      }
    }
    if (batch.length > 0) await flush()
    return result
  }

  #written(hour: number): void {
    this.#missing = this.#missing.filter((h) => h !== hour)
    if (hour >= this.#cursor) this.#cursor = hour + HOUR_MS
  }
}
