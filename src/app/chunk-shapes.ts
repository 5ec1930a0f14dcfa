import type { Aggregation } from '../domain/metrics.js'
import { rangeCovering } from '../domain/shard.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import { evaluateShapeWithTotals, type ShapeEvaluation } from '../domain/signals/shape-signal.js'
import { DAY_MS } from '../domain/time.js'
import type { ProfileViews, SeriesProfiles, SeriesWindows, VectorIndex } from '../ports.js'

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
  /**
   * The baseline weeks whose profiles the windows' scan must carry (UsageStore.seriesWindows' shapeWeeks), or null
   * when the reader reads them itself.
   */
  readonly scanWeeks: number | null
  /**
   * The next chunk's shape verdicts, one per series in the chunk's order (null: no shape verdict); chunks come in
   * customer-id order, as UsageStore.seriesWindows gives them.
   */
  shapesOf(
    chunk: readonly Pick<SeriesWindows, 'customerId' | 'metric' | 'profiles'>[],
  ): Promise<(SeriesShape | null)[]>
}

/**
 * The shape verdicts of a run's customer range, chunk after chunk. An index whose profiles are the usage store's own
 * (the embedded one) has them read in the windows' scan (scanWeeks): each chunk of series carries its profiles, and
 * the rollup is scanned once for both signals. Another index is asked once per chunk (chunkShapes).
 */
export function chunkShapeReader(
  index: VectorIndex,
  slot: number,
  config: ShapeConfig,
  metrics: readonly { name: string; aggregation: Aggregation }[],
): ChunkShapeReader {
  if (!index.fromUsageScan) {
    return {
      scanWeeks: null,
      async shapesOf(chunk) {
        const shapes = await chunkShapes(index, slot, config, metrics, chunk)
        return chunk.map((s) => shapes.get(seriesKey(s.customerId, s.metric)) ?? null)
      },
    }
  }
  return {
    scanWeeks: config.baselineWeeks,
    async shapesOf(chunk) {
      return chunk.map((s) => {
        if (s.profiles === undefined) throw new Error('the windows were read without their shape profiles')
        // null: no usage in any of the windows, no shape verdict (as the index leaves such a series out).
        return s.profiles === null ? null : seriesShape(s.profiles, slot, config)
      })
    },
  }
}

function seriesShape(
  p: ProfileViews & Pick<SeriesProfiles, 'nearestSimilarity'>,
  slot: number,
  config: ShapeConfig,
): SeriesShape {
  const input = { current: p.current, baseline: p.baseline, windowStart: slot - DAY_MS }
  return evaluateShapeWithTotals(
    p.nearestSimilarity === undefined ? input : { ...input, indexNearestSimilarity: p.nearestSimilarity },
    config,
  )
}
