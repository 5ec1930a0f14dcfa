import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemo } from '../src/demo/generator.js'
import { loadDemo } from '../src/demo/load.js'
import { detect, SEED_DETECTOR } from '../src/domain/detector.js'
import { DEFAULT_VOLUME_OPTIONS } from '../src/domain/volume.js'
import type { SeriesWindows } from '../src/ports.js'
import { type Harness, openHarness } from './helpers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
let h: Harness

beforeAll(async () => {
  // chunks of 3 customers: the comparison below also proves chunking loses and repeats no series
  h = await openHarness(END, { job: { customersPerChunk: 3 } })
  await loadDemo(generateDemo({ customers: 10, days: 35, seed: 11, endMs: END }), (batch) =>
    h.meterflow.ingest(batch),
  )
})
afterAll(async () => {
  await h?.close()
})

const metrics = () => h.meterflow.metrics.current().list()

describe('batched series statistics', () => {
  // The job computes every series in one scan; the on-demand check computes one series in the domain.
  // For the same slot they must agree, or the job and the check would judge the same data differently.
  // initech (3 days of history) has no usage before END - 3 days.
  for (const [slot, series] of [
    [END, 40],
    [END - 5 * HOUR, 40],
    [END - 3 * DAY, 36],
  ] as const) {
    it(`match the per-series check for every customer and metric (slot ${new Date(slot).toISOString()})`, async () => {
      const stats = await allSeries(slot)
      expect(stats.length).toBe(series)
      expect(new Set(stats.map((s) => `${s.customerId}/${s.metric}`)).size).toBe(series)
      for (const series of stats) {
        const s = {
          ...series,
          ...detect(series, SEED_DETECTOR, DEFAULT_VOLUME_OPTIONS).verdict.baseline,
          currentValue: series.daily[0],
        }
        const check = await h.meterflow.check({
          customerId: s.customerId,
          metric: s.metric,
          currentStartMs: slot - DAY,
          currentEndMs: slot,
          baselineDays: 30,
          mode: 'volume',
        })
        if (!check.volume) throw new Error('a volume check has a volume verdict')
        const { verdict } = check.volume
        const label = `${s.customerId}/${s.metric}`
        expect(s.currentValue, label).toBeCloseTo(verdict.currentValue, 6)
        expect(s.samples, label).toBe(verdict.baseline.samples)
        expect(relative(s.mean, verdict.baseline.mean), label).toBeLessThan(1e-9)
        expect(relative(s.stddev, verdict.baseline.stddev), label).toBeLessThan(1e-9)
      }
    })
  }

  it('counts only samples after a series starts, and leaves out series with no usage in the period', async () => {
    await h.meterflow.ingest([
      { customer_id: 'newbie', metric: 'api_calls', value: 5, timestamp: END - 3 * DAY - HOUR },
      { customer_id: 'newbie', metric: 'api_calls', value: 4, timestamp: END - 36 * HOUR },
      { customer_id: 'newbie', metric: 'api_calls', value: 7, timestamp: END - HOUR },
      { customer_id: 'gone', metric: 'api_calls', value: 5, timestamp: END - 60 * DAY },
    ])
    const stats = await allSeries(END)
    const series = stats.find((s) => s.customerId === 'newbie') as SeriesWindows
    const newbie = {
      ...detect(series, SEED_DETECTOR, DEFAULT_VOLUME_OPTIONS).verdict.baseline,
      currentValue: series.daily[0],
    }
    expect(Array.from(series.daily.slice(0, 5))).toEqual([7, 4, 0, 5, 0])
    expect(Array.from(series.hourly.slice(0, 2))).toEqual([7, 0])
    expect(series.firstHourMs).toBe(END - 73 * HOUR)
    // first hour END-73h: samples k=1 [END-48h, END-24h) = 4 and k=2 [END-72h, END-48h) = 0; k=3 starts before it
    expect(newbie).toMatchObject({ currentValue: 7, samples: 2, mean: 2, stddev: 2 })
    expect(stats.some((s) => s.customerId === 'gone')).toBe(false)
  })
})

async function allSeries(slot: number): Promise<SeriesWindows[]> {
  const all: SeriesWindows[] = []
  for await (const chunk of h.meterflow.usage.seriesWindows(slot, 30, metrics())) {
    expect(new Set(chunk.map((s) => s.customerId)).size).toBeLessThanOrEqual(3)
    all.push(...chunk)
  }
  return all
}

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12)
}
