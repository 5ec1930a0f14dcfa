import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { UsageEvent } from '../domain/events.js'
import { DAY_MS, toIso } from '../domain/time.js'
import type { DemoDataset } from './generator.js'

/** The wire format of POST /v1/events: demo data goes through the same validation and ingest path as users' data. */
export function toApiEvent(event: UsageEvent): Record<string, unknown> {
  return {
    event_id: event.eventId ?? undefined,
    customer_id: event.customerId,
    metric: event.metric,
    value: event.value,
    timestamp: event.timestampMs,
  }
}

export type BatchSink = (batch: Record<string, unknown>[]) => Promise<unknown>

export async function loadDemo(
  dataset: DemoDataset,
  sink: BatchSink,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<number> {
  let done = 0
  for (const batch of dataset.batches()) {
    await sink(batch.map(toApiEvent))
    done += batch.length
    onProgress(done, dataset.totalEvents)
  }
  return done
}

export function writeLabels(path: string, dataset: DemoDataset): void {
  mkdirSync(dirname(path), { recursive: true })
  const { customers, days, seed, endMs } = dataset.options
  const body = {
    generator: 'meterflow demo',
    options: { customers, days, seed, end: toIso(endMs), start: toIso(endMs - days * DAY_MS) },
    customers: dataset.customers.map((c) => ({
      customer_id: c.customerId,
      segment: c.segment,
      first_hour: toIso(c.firstHourMs),
      showcase: c.showcase,
    })),
    labels: dataset.labels,
  }
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`)
}
