import type { Aggregation } from '../domain/metrics.js'
import { rangeCovering } from '../domain/shard.js'
import { profileTotal } from '../domain/signals/shape/profile.js'
import type { ShapeConfig } from '../domain/signals/shape/shape-settings.js'
import { evaluateShape, type ShapeEvaluation } from '../domain/signals/shape-signal.js'
import { DAY_MS } from '../domain/time.js'
import type { SeriesWindows, VectorIndex } from '../ports.js'

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
      if (!wanted.has(k)) continue
      const input = { current: p.current, baseline: p.baseline, windowStart: slot - DAY_MS }
      const evaluation = evaluateShape(
        p.nearestSimilarity === undefined ? input : { ...input, indexNearestSimilarity: p.nearestSimilarity },
        config,
      )
      shapes.set(k, { evaluation, ...baselineTotals(p.baseline, config) })
    }
  }
  return shapes
}

/** The daily totals of the baseline days evaluateShape keeps (the same rule: positive and not low volume). */
function baselineTotals(
  baseline: readonly (readonly number[])[],
  config: ShapeConfig,
): { baselineMean: number; baselineStddev: number } {
  const totals = baseline
    .slice(0, config.baselineWeeks)
    .map(profileTotal)
    .filter((t) => t > 0 && t >= config.minDailyVolume)
  if (totals.length === 0) return { baselineMean: 0, baselineStddev: 0 }
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length
  const variance = totals.reduce((a, t) => a + (t - mean) ** 2, 0) / totals.length
  return { baselineMean: mean, baselineStddev: Math.sqrt(variance) }
}
