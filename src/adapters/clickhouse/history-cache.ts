import type { WindowHistory, WindowHistoryRequest } from '../../ports.js'

/** Entries kept per database: ~2.5 KB each at 30 baseline days, so ~10 MB at most. */
export const HISTORY_CACHE_ENTRIES = 4_096

/** First hours kept per database: ~100 bytes each, so ~6.5 MB at most (the oldest kept goes first). */
export const FIRST_HOUR_ENTRIES = 65_536

/**
 * Window histories already read (the on-demand check's one query), kept until a write may change them. Exact by
 * construction, never by expiry: every write of the usage tables a history reads (raw events, rollup, first-seen)
 * announces the series it writes before it starts (IngestLedger's derived writes are the only such writes), which
 * drops their entries; a read that overlapped any write, started or finished, is returned but not kept. Only for
 * the embedded engine, which one process owns (its data directory is locked): a ClickHouse server has other
 * writers this process never hears of.
 */
export class HistoryCache {
  private readonly entries = new Map<string, { series: string; history: WindowHistory }>()
  private readonly keysBySeries = new Map<string, Set<string>>()
  /**
   * Each series' first hour (null: no event yet) as last read, kept by the same rules: a read of a window never
   * asked before needs it too, and it changes only when the series is written (an event before its first hour).
   */
  private readonly firstHours = new Map<string, number | null>()
  /** Bumped when a write starts and when it ends: a read that saw it change overlapped a write. */
  private epoch = 0
  private writing = 0

  constructor(private readonly capacity = HISTORY_CACHE_ENTRIES) {}

  /** Before writing rows of these series (`seriesKey`s): drops what is kept of them. Call the result when done. */
  writeStarts(series: Iterable<string>): () => void {
    this.epoch++
    this.writing++
    for (const s of series) {
      this.drop(s)
      this.firstHours.delete(s)
    }
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.epoch++
      this.writing--
    }
  }

  async read(request: WindowHistoryRequest, load: () => Promise<WindowHistory>): Promise<WindowHistory> {
    const key = requestKey(request)
    const hit = this.entries.get(key)
    if (hit) {
      // Most recently used last: the first key is the one to evict.
      this.entries.delete(key)
      this.entries.set(key, hit)
      return copy(hit.history)
    }
    const epoch = this.epoch
    const quiet = this.writing === 0
    const history = await load()
    if (quiet && this.writing === 0 && this.epoch === epoch) this.keep(key, seriesKey(request), copy(history))
    return history
  }

  /** The series' first hour as kept (null: it had no event), or undefined when not kept. */
  firstHour(series: string): number | null | undefined {
    return this.firstHours.get(series)
  }

  /**
   * Before a read of first hours: the returned function keeps what the read found, unless a write started or ended
   * since (or was under way), exactly as `read` keeps a history.
   */
  firstHoursRead(): (series: string, firstHourMs: number | null) => void {
    const epoch = this.epoch
    const quiet = this.writing === 0
    return (series, firstHourMs) => {
      if (!(quiet && this.writing === 0 && this.epoch === epoch)) return
      this.firstHours.delete(series)
      this.firstHours.set(series, firstHourMs)
      while (this.firstHours.size > FIRST_HOUR_ENTRIES) {
        this.firstHours.delete(this.firstHours.keys().next().value as string)
      }
    }
  }

  /** Forgets everything (the engine may have been written by someone else). */
  clear(): void {
    this.entries.clear()
    this.keysBySeries.clear()
    this.firstHours.clear()
  }

  get size(): number {
    return this.entries.size
  }

  private keep(key: string, series: string, history: WindowHistory): void {
    this.entries.set(key, { series, history })
    const keys = this.keysBySeries.get(series) ?? new Set<string>()
    keys.add(key)
    this.keysBySeries.set(series, keys)
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string
      this.remove(oldest)
    }
  }

  private drop(series: string): void {
    for (const key of this.keysBySeries.get(series) ?? []) this.entries.delete(key)
    this.keysBySeries.delete(series)
  }

  private remove(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    const keys = this.keysBySeries.get(entry.series)
    keys?.delete(key)
    if (keys?.size === 0) this.keysBySeries.delete(entry.series)
  }
}

export function seriesKey({ customerId, metric }: { customerId: string; metric: string }): string {
  return `${customerId}\u0000${metric}`
}

function requestKey(r: WindowHistoryRequest): string {
  return JSON.stringify([
    r.customerId,
    r.metric,
    r.aggregation,
    r.window.startMs,
    r.window.endMs,
    r.stepMs,
    r.count,
  ])
}

function copy(history: WindowHistory): WindowHistory {
  return { firstEventHourMs: history.firstEventHourMs, aggregates: history.aggregates.map((a) => ({ ...a })) }
}

/**
 * One cache per database in this process, shared by every store on it: a store that writes drops what another
 * store on the same database keeps (tests and benchmarks open several; the embedded engine has one data directory
 * per process, so a database name names one set of tables).
 */
const caches = new Map<string, HistoryCache>()

export function historyCacheOf(database: string): HistoryCache {
  const cache = caches.get(database) ?? new HistoryCache()
  caches.set(database, cache)
  return cache
}
