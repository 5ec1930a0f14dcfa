import type { ClickHouseClient } from '@clickhouse/client'
import { clickhouseTime } from '../src/adapters/clickhouse/errors.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import type { DemoDataset } from '../src/demo/generator.js'
import { toApiEvent } from '../src/demo/load.js'
import type { MeterFlow } from '../src/wiring.js'

export interface ThroughputResult {
  path: string
  events: number
  seconds: number
  eventsPerSecond: number
}

function throughput(path: string, events: number, startedAt: number): ThroughputResult {
  const seconds = (performance.now() - startedAt) / 1000
  return { path, events, seconds, eventsPerSecond: events / seconds }
}

/** The request bodies, serialised up front so the client's JSON work is not charged to the server. */
export function requestBodies(dataset: DemoDataset): string[] {
  return [...dataset.batches()].map((batch) => JSON.stringify(batch.map(toApiEvent)))
}

export async function ingestOverHttp(
  baseUrl: string,
  bodies: string[],
  onBatch: (i: number) => void,
): Promise<ThroughputResult> {
  let events = 0
  const startedAt = performance.now()
  for (const [i, body] of bodies.entries()) {
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const reply = (await response.json()) as { stored?: number; message?: string }
    if (!response.ok) throw new Error(`ingest failed: HTTP ${response.status} ${reply.message}`)
    events += reply.stored ?? 0
    onBatch(i + 1)
  }
  return throughput('HTTP POST /v1/events (validate, dedup, insert)', events, startedAt)
}

export async function ingestInProcess(
  meterflow: MeterFlow,
  dataset: DemoDataset,
  onBatch: (i: number) => void,
): Promise<ThroughputResult> {
  const batches = [...dataset.batches()].map((b) => b.map(toApiEvent))
  let events = 0
  let i = 0
  const startedAt = performance.now()
  for (const batch of batches) {
    events += (await meterflow.ingest(batch)).stored
    onBatch(++i)
  }
  return throughput('in-process ingest use case (validate, dedup, insert)', events, startedAt)
}

/** The floor: the same rows straight into the engine, no validation, no duplicate check, no HTTP. */
export async function ingestDirect(
  client: ClickHouseClient,
  database: string,
  dataset: DemoDataset,
  onBatch: (i: number) => void,
): Promise<ThroughputResult> {
  await migrate(client, database)
  const batches = [...dataset.batches()].map((batch) =>
    batch.map((e) => ({
      customer_id: e.customerId,
      metric: e.metric,
      ts: clickhouseTime(e.timestampMs),
      value: e.value,
      event_id: e.eventId ?? '',
    })),
  )
  let events = 0
  let i = 0
  const startedAt = performance.now()
  for (const values of batches) {
    await client.insert({ table: `${database}.usage_events`, values, format: 'JSONEachRow' })
    events += values.length
    onBatch(++i)
  }
  return throughput('direct client.insert into the engine', events, startedAt)
}
