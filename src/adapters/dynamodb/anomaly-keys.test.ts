import { describe, expect, it } from 'vitest'
import type { AnomalyRecord } from '../../domain/anomaly.js'
import type { SignalKind } from '../../domain/signals/signal-registry.js'
import { StoreError } from '../../errors.js'
import { anomalyItem, itemToAnomaly } from './items.js'
import { anomalyKey, anomalySk, anomalySkRange } from './keys.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
// No second signal exists yet: a name stands in for one to test the key rule every future kind will follow.
const OTHER = 'shape' as SignalKind

const record: AnomalyRecord = {
  kind: 'volume',
  customerId: 'acme',
  metric: 'api_calls',
  detectedAt: SLOT,
  currentValue: 1500,
  baselineMean: 1000,
  baselineStddev: 100,
  zScore: 5,
  samples: 30,
  windowKind: 'day',
  severity: 'critical',
  direction: 'spike',
  windowStart: SLOT - 86_400_000,
  windowEnd: SLOT,
  incidentId: null,
  runId: 'r1',
  ttl: 1_800_000_000,
}

describe('anomaly keys by signal kind', () => {
  it("keeps the seed's sort key for volume and gives another kind its own, after the same slot and metric", () => {
    expect(anomalySk(SLOT, 'api_calls', 'volume')).toBe(`ANOMALY#${SLOT}#api_calls`)
    expect(anomalySk(SLOT, 'api_calls', OTHER)).toBe(`ANOMALY#${SLOT}#api_calls#shape`)
    expect(anomalyKey('acme', SLOT, 'api_calls', OTHER)).toEqual({
      pk: 'CUSTOMER#acme',
      sk: `ANOMALY#${SLOT}#api_calls#shape`,
    })
  })

  it('never gives two (metric, kind) pairs of one slot the same key, and keeps every kind inside the time range', () => {
    // Metric names are [a-z0-9_]: none holds the '#' that starts a kind suffix.
    const metrics = ['api_calls', 'api_calls_shape', 'shape', 'api']
    const keys = metrics.flatMap((m) => [anomalySk(SLOT, m, 'volume'), anomalySk(SLOT, m, OTHER)])
    expect(new Set(keys).size).toBe(keys.length)
    const [low, high] = anomalySkRange(SLOT, SLOT)
    for (const key of keys) expect(key > low && key < high).toBe(true)
    const [, before] = anomalySkRange(SLOT - 1, SLOT - 1)
    for (const key of keys) expect(key > before).toBe(true)
  })

  it("writes a volume record as the seed's item (no kind attribute) and reads an item without kind as volume", () => {
    const item = anomalyItem(record)
    expect(item.kind).toBeUndefined()
    expect(item).toMatchObject({ z_score: 5, baseline_mean: 1000, baseline_stddev: 100, samples: 30 })
    expect(itemToAnomaly(item)).toStrictEqual(record)
    expect(itemToAnomaly({ ...item, kind: 'volume' })).toStrictEqual(record)
  })

  it('refuses an item of a kind this version does not know, or one missing its signal fields', () => {
    expect(() => itemToAnomaly({ ...anomalyItem(record), kind: 'shape' })).toThrow(StoreError)
    const { z_score: _, ...withoutZ } = anomalyItem(record)
    expect(() => itemToAnomaly(withoutZ)).toThrow(/attribute z_score is not a number/)
  })

  it('writes the window that judged a volume record as window_kind; an item without it (older) reads as null', () => {
    const recent = { ...record, windowStart: SLOT - 3_600_000, windowKind: 'recent' as const }
    expect(anomalyItem(recent)).toMatchObject({ window_kind: 'recent' })
    expect(itemToAnomaly(anomalyItem(recent))).toStrictEqual(recent)
    const { window_kind: _, ...older } = anomalyItem(record)
    expect(itemToAnomaly(older)).toStrictEqual({ ...record, windowKind: null })
    expect(itemToAnomaly({ ...older, window_kind: null })).toStrictEqual({ ...record, windowKind: null })
    expect(() => itemToAnomaly({ ...older, window_kind: 'week' })).toThrow(
      /attribute window_kind is not one of day, hour, recent/,
    )
    expect(() => itemToAnomaly({ ...older, window_kind: 1 })).toThrow(StoreError)
  })
})
