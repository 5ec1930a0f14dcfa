import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { z } from 'zod'
import type { UsageEvent } from '../domain/events.js'
import { BOUNDS, type NumberRange } from '../domain/limits.js'
import { DAY_MS, toIso } from '../domain/time.js'
import type { DemoDataset, DemoOptions } from './generator.js'

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

const GENERATOR = 'meterflow demo'

const whole = (range: NumberRange) => z.number().int().min(range.min).max(range.max)

/** The part of the labels file that says which demo data the store holds (what the live feed continues). */
const labelsFileSchema = z.object({
  generator: z.literal(GENERATOR),
  options: z.object({
    customers: whole(BOUNDS.demoCustomers),
    days: whole(BOUNDS.demoDays),
    seed: whole(BOUNDS.demoSeed),
    end: z.iso.datetime(),
  }),
})

export class DemoLabelsError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`)
    this.name = 'DemoLabelsError'
  }
}

/** The options of the demo data a labels file describes; null when there is no file. */
export function readDemoOptions(path: string): DemoOptions | null {
  if (!existsSync(path)) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new DemoLabelsError(path, (err as Error).message)
  }
  const result = labelsFileSchema.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new DemoLabelsError(path, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
  }
  const { customers, days, seed, end } = result.data.options
  return { customers, days, seed, endMs: Date.parse(end) }
}

export function writeLabels(path: string, dataset: DemoDataset): void {
  mkdirSync(dirname(path), { recursive: true })
  const { customers, days, seed, endMs } = dataset.options
  const body = {
    generator: GENERATOR,
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
