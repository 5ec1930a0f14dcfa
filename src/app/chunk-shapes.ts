import type { Aggregation } from '../domain/metrics.js'
import { type CustomerRange, rangeCovering } from '../domain/shard.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import { evaluateShape, type ShapeEvaluation, usableBaselineTotals } from '../domain/signals/shape-signal.js'
import { DAY_MS } from '../domain/time.js'
import type { ProfileChunk, SeriesProfiles, SeriesWindows, VectorIndex } from '../ports.js'

/** One series' shape verdict with the baseline days' totals an alert quotes beside it. */
export interface SeriesShape {
  evaluation: ShapeEvaluation
  /** Mean and population stddev of the daily totals of the baseline days the verdict used (0 without one). */
  baselineMean: number
  baselineStddev: number
}

export const seriesKey = (customerId: string, metric: string) => `${customerId}\u0000${metric}`

/**
 * The shape verdicts of one chunk of the job's series (the single entry point for shape verdicts: the job and the
 * check): one VectorIndex request over exactly the chunk's customers (never one per series), so memory stays
 * bounded by the chunk. Series without a profile (no usage in any of the windows) are absent: no shape verdict.
 */
export async function chunkShapes(
  index: VectorIndex,
  slot: number,
  config: ShapeConfig,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  chunk: readonly Pick<SeriesWindows, 'customerId' | 'metric'>[],
): Promise<Map<string, SeriesShape>> {
  const shapes = new Map<string, SeriesShape>()
  const range = rangeCovering(chunk.map((s) => s.customerId))
  if (range === null) return shapes
  const wanted = new Set(chunk.map((s) => seriesKey(s.customerId, s.metric)))
  const request = {
    slot,
    weeks: config.baselineWeeks,
    metrics,
    range,
    series: chunk.map(({ customerId, metric }) => ({ customerId, metric })),
    nearest: config.variant === 'nearest' ? { minDailyVolume: config.minDailyVolume } : null,
  }
  for await (const profiles of index.profiles(request)) {
    for (const p of profiles) {
      const k = seriesKey(p.customerId, p.metric)
      if (wanted.has(k)) shapes.set(k, seriesShape(p, slot, config))
    }
  }
  return shapes
}

/** Shape verdicts chunk by chunk of the series of one customer range (the job's loop over its volume chunks). */
export interface ChunkShapeReader {
  /** The next chunk's shape verdicts; chunks come in customer-id order, as UsageStore.seriesWindows gives them. */
  shapesOf(chunk: readonly Pick<SeriesWindows, 'customerId' | 'metric'>[]): Promise<Map<string, SeriesShape>>
}

/**
 * The shape verdicts of a run's customer range, chunk after chunk. An index that reads whole ranges
 * (VectorIndex.rangeProfiles: the embedded one) is asked once: its chunks come in customer order with their ranges,
 * each read while the caller judges the previous one, and a chunk of series takes the profiles of the ranges that
 * cover its customers (the same profiles a read over exactly its customers gives: a profile is one series' own
 * rows). The first read starts at once, beside the volume's first. Another index is asked per chunk (chunkShapes).
 */
export function chunkShapeReader(
  index: VectorIndex,
  slot: number,
  config: ShapeConfig,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  range: CustomerRange,
): ChunkShapeReader {
  if (!index.rangeProfiles) {
    return { shapesOf: (chunk) => chunkShapes(index, slot, config, metrics, chunk) }
  }
  const chunks = index
    .rangeProfiles({ slot, weeks: config.baselineWeeks, metrics, range })
    [Symbol.asyncIterator]()
  // Started now; a run that stops before taking it (out of time, a failed chunk) must not leave an unhandled rejection.
  let first: Promise<IteratorResult<ProfileChunk>> | null = chunks.next()
  first.catch(() => undefined)
  let ended = false
  /** Where the customers read so far end ('' = the range's end); null before the first chunk. */
  let readTo: string | null = null
  const read = new Map<string, SeriesProfiles>()
  return {
    async shapesOf(chunk) {
      const shapes = new Map<string, SeriesShape>()
      if (chunk.length === 0) return shapes
      let last = ''
      for (const s of chunk) if (s.customerId > last) last = s.customerId
      // Take chunks until one ends past this chunk's last customer (the store reads the one after meanwhile).
      while (!ended && (readTo === null || (readTo !== '' && readTo <= last))) {
        const next = await (first ?? chunks.next())
        first = null
        if (next.done) {
          ended = true
          break
        }
        for (const p of next.value.profiles) read.set(seriesKey(p.customerId, p.metric), p)
        readTo = next.value.range.to
      }
      for (const s of chunk) {
        const k = seriesKey(s.customerId, s.metric)
        const p = read.get(k)
        if (p) shapes.set(k, seriesShape(p, slot, config))
      }
      // Later chunks hold later customers only: the profiles up to this chunk's last customer are done with.
      for (const [k, p] of read) if (p.customerId <= last) read.delete(k)
      return shapes
    },
  }
}

function seriesShape(p: SeriesProfiles, slot: number, config: ShapeConfig): SeriesShape {
  const input = { current: p.current, baseline: p.baseline, windowStart: slot - DAY_MS }
  const evaluation = evaluateShape(
    p.nearestSimilarity === undefined ? input : { ...input, indexNearestSimilarity: p.nearestSimilarity },
    config,
  )
  return { evaluation, ...usableBaselineTotals(p.baseline, config) }
}
