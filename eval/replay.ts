import { join } from 'node:path'
import { type Config, loadConfig } from '../src/config.js'
import { HOUR_MS } from '../src/domain/time.js'
import { openMeterFlow } from '../src/wiring.js'
import type { EvalDataset } from './datasets.js'
import { type EvalConfiguration, VOLUME_NEVER } from './detectors.js'
import type { SharedReads } from './shared-reads.js'

export interface ReplayResult {
  /** Alert times (incident openings) per series key. */
  alerts: Map<string, number[]>
  /** Incidents (of the dataset's series) by the signal that opened them. */
  openedBy: Record<string, number>
  runs: number
  seconds: number
}

function evalConfig(
  dataDir: string,
  database: string,
  sqliteName: string,
  configuration?: EvalConfiguration,
): Config {
  return loadConfig(
    {},
    {
      dataDir,
      logLevel: 'warn',
      demo: { enabled: false },
      job: { schedulerEnabled: false },
      // Openings are read from the incident store; no channel is needed (and none should print).
      alerts: { console: { enabled: false } },
      clickhouse: { database },
      anomalyStore: { sqlitePath: join(dataDir, `${sqliteName}.sqlite`) },
      ...(configuration
        ? {
            detection: {
              ...configuration.detection,
              detector: { ...configuration.detector, windows: [...configuration.detector.windows] },
            },
          }
        : {}),
    },
  )
}

/** Loads a dataset through the product's ingest path into its own database. */
export async function ingestDataset(dataDir: string, dataset: EvalDataset): Promise<void> {
  const meterflow = await openMeterFlow(evalConfig(dataDir, database(dataset), `ingest-${dataset.name}`))
  try {
    for (const metric of dataset.metrics) await meterflow.metrics.register(metric)
    for (const batch of dataset.batches()) await meterflow.ingest(batch)
  } finally {
    await meterflow.close()
  }
}

function database(dataset: EvalDataset): string {
  return `eval_${dataset.name.replace(/[^A-Za-z0-9_]/g, '_')}`
}

/**
 * Replays the dataset's timeline through the real job: one detection run per hourly slot, in order, as the
 * scheduler would, then reads which incidents opened when. Each detector gets a fresh anomaly store. With `reads`,
 * the engine's answers to the job's usage reads are shared with the other configurations (shared-reads.ts).
 */
export async function replay(
  dataDir: string,
  dataset: EvalDataset,
  name: string,
  configuration: EvalConfiguration,
  reads?: SharedReads,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<ReplayResult> {
  const meterflow = await openMeterFlow(
    evalConfig(dataDir, database(dataset), `${dataset.name}-${name}`, configuration),
  )
  reads?.share(meterflow)
  const started = performance.now()
  try {
    // No window judges a series before its second day (the recent window needs 24 hours, the day and hour windows
    // 7 days), so earlier runs could not open anything. Before round 4 the replay began on the eighth day; the day
    // and hour windows' figures are the same either way (nothing of theirs can fire before it).
    const first = Math.ceil(dataset.startMs / HOUR_MS) * HOUR_MS + 24 * HOUR_MS
    const last = Math.ceil(dataset.endMs / HOUR_MS) * HOUR_MS
    const total = (last - first) / HOUR_MS + 1
    let runs = 0
    const seriesOf = new Map(dataset.series.map((s) => [`${s.customerId}\u0000${s.metric}`, s]))
    for (let slot = first; slot <= last; slot += HOUR_MS) {
      const { run, transitions } = await meterflow.job.runNow(slot, 'cli')
      if (run.status !== 'completed')
        throw new Error(`run for ${new Date(slot).toISOString()} failed: ${run.error}`)
      if (configuration.feedback) {
        for (const { incident, transition } of transitions) {
          const series = seriesOf.get(`${incident.customerId}\u0000${incident.metric}`)
          if (transition !== 'opened' || !series) continue
          // The opening is scored at the first row at or after it; outside every window it is a false alarm.
          const row = series.timestamps.find((t) => t >= incident.openedAt)
          const inWindow =
            row === undefined || series.windows.some(([start, end]) => start <= row && row <= end)
          if (!inWindow) {
            const feedback = { label: 'false_positive' as const, at: slot, by: 'eval operator', note: null }
            await meterflow.anomalies.setIncidentFeedback(incident.id, feedback)
          }
        }
      }
      runs++
      if (runs % 100 === 0 || runs === total) onProgress(runs, total)
    }
    const keyOf = new Map(dataset.series.map((s) => [`${s.customerId}\u0000${s.metric}`, s.key]))
    const alerts = new Map<string, number[]>()
    const openedBy: Record<string, number> = {}
    let cursor: string | undefined
    do {
      const page = await meterflow.anomalies.listIncidents({ limit: 1000, cursor })
      for (const incident of page.items) {
        const key = keyOf.get(`${incident.customerId}\u0000${incident.metric}`)
        if (!key) continue
        openedBy[incident.openedBySignal] = (openedBy[incident.openedBySignal] ?? 0) + 1
        alerts.set(
          key,
          [...(alerts.get(key) ?? []), incident.openedAt].sort((a, b) => a - b),
        )
      }
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    if (configuration.detection?.threshold === VOLUME_NEVER && openedBy.volume) {
      throw new Error(
        `${name} / ${dataset.name}: volume opened ${openedBy.volume} incidents at its unreachable threshold`,
      )
    }
    return { alerts, openedBy, runs, seconds: (performance.now() - started) / 1000 }
  } finally {
    await meterflow.close()
  }
}
