import type { MetricCatalog } from '../src/app/metric-catalog.js'
import type { UsageStore } from '../src/ports.js'

type DetectionRead = 'seriesWindows' | 'shapeProfiles'

/**
 * The engine's answers to the job's detection reads over one dataset, shared by every configuration replayed on it.
 *
 * During a replay the usage data does not change (ingest is over), and what a run reads from the usage store
 * depends only on the read's arguments (slot, baseline length, metrics, customer range), never on the detector
 * configuration or the anomaly store. So the first configuration's run for slot S asks the real engine, and the
 * other configurations' runs for S receive a copy of that answer through the same job code path (runDetection ->
 * evaluateRange -> UsageStore.seriesWindows / shapeProfiles). What varies between configurations (statistics,
 * incidents, feedback, the SQLite store) runs for every configuration. Likewise the metric registry, which the job
 * reloads at the start of every run in case another process registered a metric: during a replay none can, so
 * each run gets the registry read when the replay opened. `--shared-reads off` asks the engine every time; both
 * give the same scores (see eval/EXPERIMENTS.md).
 */
export class SharedReads {
  private readonly answers = new Map<string, { chunks: Promise<unknown[][]>; readsLeft: number }>()
  /** Reads answered by the engine / from a copy. */
  queried = 0
  shared = 0

  /** @param consumers how many configurations will read each answer (it is dropped after the last one). */
  constructor(private readonly consumers: number) {}

  /** Routes the store's detection reads through the shared answers (these instances' methods only). */
  share({ usage, metrics }: { usage: UsageStore; metrics: MetricCatalog }): void {
    const registry = metrics.current()
    metrics.refresh = async () => registry
    for (const read of ['seriesWindows', 'shapeProfiles'] as const) {
      const own = usage[read].bind(usage) as (...args: unknown[]) => AsyncIterable<unknown[]>
      ;(usage as unknown as Record<DetectionRead, unknown>)[read] = (...args: unknown[]) =>
        this.read(read, args, () => own(...args))
    }
  }

  private async *read(
    what: DetectionRead,
    args: unknown[],
    ask: () => AsyncIterable<unknown[]>,
  ): AsyncGenerator<unknown[]> {
    const key = JSON.stringify([what, ...args])
    let answer = this.answers.get(key)
    if (answer) {
      this.shared++
    } else {
      this.queried++
      answer = { chunks: collect(ask()), readsLeft: this.consumers }
      this.answers.set(key, answer)
    }
    if (--answer.readsLeft <= 0) this.answers.delete(key)
    // A copy per reader: nothing one configuration's run does to its arrays can reach another's.
    for (const chunk of await answer.chunks) yield structuredClone(chunk)
  }
}

async function collect<T>(chunks: AsyncIterable<T[]>): Promise<T[][]> {
  const all: T[][] = []
  for await (const chunk of chunks) all.push(chunk)
  return all
}
