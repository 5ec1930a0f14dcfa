import { join } from 'node:path'
import type { MetricRegistration } from '../src/app/metric-catalog.js'
import { generateDemo } from '../src/demo/generator.js'
import { toApiEvent } from '../src/demo/load.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'
import { readNab } from './nab.js'

/** One labelled series, replayed as one customer's metric. Windows are inclusive [start, end] in epoch ms. */
export interface EvalSeries {
  key: string
  customerId: string
  metric: string
  /** The series' row times: the rows the NAB-style score is counted in. */
  timestamps: number[]
  windows: [number, number][]
  /** The kind of anomaly behind each window (synthetic data), for per-kind recall. */
  kinds: string[]
}

export interface EvalDataset {
  name: string
  series: EvalSeries[]
  metrics: MetricRegistration[]
  startMs: number
  endMs: number
  /** Batches in the wire format of POST /v1/events. */
  batches(): Iterable<Record<string, unknown>[]>
}

/** Synthetic data ends here: in the past, so the ingest path accepts it, and fixed, so runs are comparable. */
const SYNTHETIC_END = Date.UTC(2026, 9, 1)
/** A label is found if an alert comes within a day of its start (or before its end, if longer). */
const SYNTHETIC_GRACE_MS = DAY_MS

export function syntheticDataset(seed: number, customers = 40, days = 42): EvalDataset {
  const demo = generateDemo({ customers, days, seed, endMs: SYNTHETIC_END })
  const metrics = ['api_calls', 'bandwidth', 'compute_time', 'storage_peak']
  const series: EvalSeries[] = []
  for (const customer of demo.customers) {
    const timestamps: number[] = []
    for (let t = customer.firstHourMs; t < SYNTHETIC_END; t += HOUR_MS) timestamps.push(t)
    for (const metric of metrics) {
      const labels = demo.labels.filter((l) => l.customer_id === customer.customerId && l.metric === metric)
      series.push({
        key: `synthetic-${seed}/${customer.customerId}/${metric}`,
        customerId: customer.customerId,
        metric,
        timestamps,
        windows: labels.map((l) => {
          const start = Date.parse(l.start)
          return [start, Math.max(Date.parse(l.end), start + SYNTHETIC_GRACE_MS)]
        }),
        kinds: labels.map((l) => l.kind),
      })
    }
  }
  return {
    name: `synthetic-${seed}`,
    series,
    metrics: [],
    startMs: SYNTHETIC_END - days * DAY_MS,
    endMs: SYNTHETIC_END,
    batches: function* () {
      for (const batch of demo.batches()) yield batch.map(toApiEvent)
    },
  }
}

/** NAB series start in this week (a Monday), shifted by whole weeks so weekday and hour of day are kept. */
const NAB_ANCHOR = Date.UTC(2026, 5, 1)

export async function nabDataset(dir: string): Promise<EvalDataset> {
  const nab = await readNab(dir)
  const series: EvalSeries[] = []
  const rows: { customerId: string; timestamps: number[]; values: number[] }[] = []
  let endMs = 0
  nab.forEach((s, i) => {
    const first = s.timestamps[0] ?? 0
    const weekStart = first - (((new Date(first).getUTCDay() + 6) % 7) * DAY_MS + (first % DAY_MS))
    const shift = NAB_ANCHOR - weekStart
    const customerId = `nab-${String(i).padStart(2, '0')}-${s.name}`.slice(0, 128)
    const timestamps = s.timestamps.map((t) => t + shift)
    // Usage cannot be negative: a series with negative values is lifted so that its minimum is 0.
    const minimum = Math.min(0, ...s.values)
    rows.push({ customerId, timestamps, values: s.values.map((v) => v - minimum) })
    series.push({
      key: s.key,
      customerId,
      metric: 'nab_value',
      timestamps,
      windows: s.windows.map(([a, b]) => [a + shift, b + shift]),
      kinds: s.windows.map(() => s.category),
    })
    endMs = Math.max(endMs, timestamps[timestamps.length - 1] ?? 0)
  })
  return {
    name: 'nab',
    series,
    metrics: [{ name: 'nab_value', aggregation: 'sum', description: 'NAB series value per row', unit: '' }],
    startMs: NAB_ANCHOR,
    endMs: endMs + HOUR_MS,
    batches: function* () {
      for (const r of rows) {
        for (let i = 0; i < r.timestamps.length; i += 10_000) {
          yield r.timestamps.slice(i, i + 10_000).map((t, j) => ({
            event_id: `${r.customerId}-${t}`,
            customer_id: r.customerId,
            metric: 'nab_value',
            value: r.values[i + j],
            timestamp: t,
          }))
        }
      }
    },
  }
}

export const NAB_DIR = join(import.meta.dirname, '..', '..', 'shared', 'nab')
