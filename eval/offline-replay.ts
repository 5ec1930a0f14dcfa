// Offline replay (issue 13, round 4): hourly sums as the store holds them, the domain's detect() per
// slot, incidents as applySignals opens/resolves them, scored with eval/scoring.ts. Seconds instead of minutes.
import { type DetectorConfig, detect, type SeriesHistory } from '../src/domain/detector.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'
import { DEFAULT_VOLUME_OPTIONS, type VolumeOptions } from '../src/domain/volume.js'
import { type EvalDataset, NAB_DIR, nabDataset, syntheticDataset } from './datasets.js'
import { EVAL_DETECTORS } from './detectors.js'
import { detectionStats, nabScore, PROFILES, type SeriesAlerts } from './scoring.js'

const MAX_METRICS = new Set(['storage_peak'])
const BASELINE_DAYS = 30

interface HourSeries {
  key: string
  category: string
  agg: 'sum' | 'max'
  base: number
  values: Float64Array
  prefix: Float64Array
  lastHour: number
}

function hourly(dataset: EvalDataset): Map<string, HourSeries> {
  const raw = new Map<string, Map<number, number>>()
  const agg = new Map<string, 'sum' | 'max'>()
  const seen = new Set<string>()
  for (const batch of dataset.batches()) {
    for (const e of batch) {
      const id = e.event_id as string | undefined
      if (id) {
        if (seen.has(id)) continue
        seen.add(id)
      }
      const k = `${e.customer_id}\u0000${e.metric}`
      const a = MAX_METRICS.has(e.metric as string) ? 'max' : 'sum'
      agg.set(k, a)
      const m = raw.get(k) ?? new Map<number, number>()
      raw.set(k, m)
      const h = Math.floor((e.timestamp as number) / HOUR_MS) * HOUR_MS
      const v = e.value as number
      const old = m.get(h)
      m.set(h, old === undefined ? v : a === 'sum' ? old + v : Math.max(old, v))
    }
  }
  const out = new Map<string, HourSeries>()
  for (const s of dataset.series) {
    const k = `${s.customerId}\u0000${s.metric}`
    const m = raw.get(k)
    if (!m) continue
    const hours = [...m.keys()]
    const base = Math.min(...hours)
    const lastHour = Math.max(...hours)
    const n = (lastHour - base) / HOUR_MS + 1
    const values = new Float64Array(n)
    for (const [h, v] of m) values[(h - base) / HOUR_MS] = v
    const prefix = new Float64Array(n + 1)
    for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (values[i] as number)
    out.set(s.key, {
      key: s.key,
      category: s.kinds[0] ?? '',
      agg: agg.get(k) ?? 'sum',
      base,
      values,
      prefix,
      lastHour,
    })
  }
  return out
}

/** Aggregate over hours [from, to). */
function range(s: HourSeries, from: number, to: number): number {
  const a = Math.max(0, (from - s.base) / HOUR_MS)
  const b = Math.min(s.values.length, (to - s.base) / HOUR_MS)
  if (b <= a) return 0
  if (s.agg === 'sum') return (s.prefix[b] as number) - (s.prefix[a] as number)
  let m = 0
  for (let i = a; i < b; i++) m = Math.max(m, s.values[i] as number)
  return m
}

export function historyAt(s: HourSeries, slot: number, days = BASELINE_DAYS, recent = 0): SeriesHistory {
  const daily: number[] = []
  const hourlyValues: number[] = []
  for (let k = 0; k <= days; k++) {
    const end = slot - k * DAY_MS
    daily.push(range(s, end - DAY_MS, end))
    hourlyValues.push(range(s, end - HOUR_MS, end))
  }
  const history: SeriesHistory = { slot, firstHourMs: s.base, daily, hourly: hourlyValues }
  // As the store: the hours before the current one, newest first, zeros before the first (the domain cuts them).
  if (recent > 0)
    history.recent = Array.from({ length: recent }, (_, j) =>
      range(s, slot - (j + 2) * HOUR_MS, slot - (j + 1) * HOUR_MS),
    )
  return history
}

/** The previous `n` hours before the current one, newest first: hours [S-1h-j h, S-j h) for j = 1..n. */
export function recentHours(s: HourSeries, slot: number, n: number): number[] {
  const out: number[] = []
  for (let j = 1; j <= n; j++) {
    const end = slot - j * HOUR_MS
    if (end - HOUR_MS < s.base) break
    out.push(range(s, end - HOUR_MS, end))
  }
  return out
}

export interface Judged {
  status: 'ok' | 'insufficient_data'
  isAnomaly: boolean
}

export type Candidate = (s: HourSeries, slot: number) => Judged

export function fromConfig(detector: DetectorConfig, options: VolumeOptions): Candidate {
  return (s, slot) => {
    const recent = detector.windows.includes('recent') ? detector.recentHours : 0
    const d = detect(historyAt(s, slot, BASELINE_DAYS, recent), detector, options)
    return { status: d.verdict.status, isAnomaly: d.verdict.isAnomaly }
  }
}

export function either(...cs: Candidate[]): Candidate {
  return (s, slot) => {
    const js = cs.map((c) => c(s, slot))
    return {
      status: js.some((j) => j.status === 'ok') ? 'ok' : 'insufficient_data',
      isAnomaly: js.some((j) => j.isAnomaly),
    }
  }
}

export function optionsOf(name: string): { detector: DetectorConfig; options: VolumeOptions } {
  const c = EVAL_DETECTORS[name]
  if (!c) throw new Error(name)
  return {
    detector: c.detector,
    options: {
      ...DEFAULT_VOLUME_OPTIONS,
      minRelativeStddev: 0.05,
      ...(c.detection?.threshold !== undefined ? { threshold: c.detection.threshold } : {}),
      ...(c.detection?.criticalThreshold !== undefined
        ? { criticalThreshold: c.detection.criticalThreshold }
        : {}),
      ...(c.detection?.minRelativeStddev !== undefined
        ? { minRelativeStddev: c.detection.minRelativeStddev }
        : {}),
    },
  }
}

export interface Prepared {
  dataset: EvalDataset
  hours: Map<string, HourSeries>
  firstSlot: number
  lastSlot: number
}

export async function prepare(which: 'nab' | number, earlyStart = true): Promise<Prepared> {
  const dataset = which === 'nab' ? await nabDataset(NAB_DIR) : syntheticDataset(which)
  const hours = hourly(dataset)
  const start = Math.ceil(dataset.startMs / HOUR_MS) * HOUR_MS
  const firstSlot = start + (earlyStart ? 1 : 7) * 24 * HOUR_MS
  const lastSlot = Math.ceil(dataset.endMs / HOUR_MS) * HOUR_MS
  return { dataset, hours, firstSlot, lastSlot }
}

export function alertsOf(p: Prepared, c: Candidate, resolveAfter = 2): SeriesAlerts[] {
  const out: SeriesAlerts[] = []
  for (const series of p.dataset.series) {
    const s = p.hours.get(series.key)
    const alerts: number[] = []
    if (s) {
      let open = false
      let clean = 0
      for (let slot = p.firstSlot; slot <= p.lastSlot; slot += HOUR_MS) {
        // The store returns a series with rows in [slot - 31 d, slot); an open incident is judged on zeros.
        const present = s.base < slot && s.lastHour >= slot - (BASELINE_DAYS + 1) * DAY_MS
        if (!present && !open) continue
        const j = c(s, slot)
        if (j.isAnomaly) {
          if (!open) alerts.push(slot)
          open = true
          clean = 0
        } else if (open && j.status === 'ok') {
          clean++
          if (clean >= resolveAfter) {
            open = false
            clean = 0
          }
        }
      }
    }
    out.push({ key: series.key, timestamps: series.timestamps, windows: series.windows, alerts })
  }
  return out
}

export interface Figures {
  found: string
  fa: number
  std: number
  lowFp: number
}

export function figures(series: SeriesAlerts[]): Figures {
  const st = detectionStats(series)
  return {
    found: `${st.detected}/${st.windows}`,
    fa: Math.round(st.falseAlarmsPerSeriesWeek * 1000) / 1000,
    std: Math.round(nabScore(series, PROFILES.standard).normalized * 10) / 10,
    lowFp: Math.round(nabScore(series, PROFILES.reward_low_fp).normalized * 10) / 10,
  }
}

export function byCategory(p: Prepared, series: SeriesAlerts[]): Record<string, Figures> {
  const cats = new Map<string, SeriesAlerts[]>()
  p.dataset.series.forEach((s, i) => {
    const c = s.kinds[0] ?? s.key.split('/')[0] ?? ''
    const cat = s.key.split('/')[0] ?? c
    cats.set(cat, [...(cats.get(cat) ?? []), series[i] as SeriesAlerts])
  })
  return Object.fromEntries([...cats].map(([c, ss]) => [c, figures(ss)]))
}

const fmt = (f: Figures) => `${f.found} ${f.fa.toFixed(3)} ${f.std} / ${f.lowFp}`

/** Every subset series cut to its first `days` days (windows ending inside): a proxy for NAB's short series. */
export function truncated(p: Prepared, days: number): Prepared {
  const series = p.dataset.series.map((s) => {
    const end = (s.timestamps[0] ?? 0) + days * DAY_MS
    return {
      ...s,
      timestamps: s.timestamps.filter((t) => t < end),
      windows: s.windows.filter(([, b]) => b < end),
    }
  })
  return {
    ...p,
    dataset: { ...p.dataset, series },
    lastSlot: Math.min(p.lastSlot, p.firstSlot + (days + 8) * DAY_MS),
  }
}

// npx tsx eval/offline-replay.ts <nab|nab-14d|1|2|3> <detector,...>   (names from eval/detectors.ts)
if (process.argv[1]?.endsWith('offline-replay.ts')) {
  const which = process.argv[2] ?? 'nab'
  const names = (process.argv[3] ?? 'seed,auto+floor5').split(',')
  const p =
    which === 'nab'
      ? await prepare('nab')
      : which.startsWith('nab-')
        ? truncated(await prepare('nab'), Number.parseInt(which.slice(4), 10))
        : await prepare(Number(which))
  for (const name of names) {
    const { detector, options } = optionsOf(name)
    const a = alertsOf(p, fromConfig(detector, options))
    console.log(name, fmt(figures(a)))
    for (const [c, f] of Object.entries(byCategory(p, a))) console.log('   ', c, fmt(f))
  }
}
