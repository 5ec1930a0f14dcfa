import { dropRepeatedIds, MAX_EVENTS_PER_BATCH, validateEventBatch } from '../domain/events.js'
import { PayloadTooLargeError, ValidationError } from '../errors.js'
import type { Clock, UsageStore } from '../ports.js'
import type { MetricCatalog } from './metric-catalog.js'

export interface IngestResult {
  received: number
  stored: number
  /** Events skipped because their event_id was already stored or repeated in this batch. */
  duplicates: number
}

export interface IngestDeps {
  usage: UsageStore
  metrics: MetricCatalog
  clock: Clock
}

/** Validates the whole batch, then stores it; a batch with any invalid event stores nothing. */
export async function ingestEvents(deps: IngestDeps, raw: unknown): Promise<IngestResult> {
  if (Array.isArray(raw) && raw.length > MAX_EVENTS_PER_BATCH) {
    throw new PayloadTooLargeError(
      `batch has ${raw.length} events; the limit is ${MAX_EVENTS_PER_BATCH} per request: split it`,
      [{ field: 'body', reason: `at most ${MAX_EVENTS_PER_BATCH} events` }],
    )
  }
  let validation = validateEventBatch(raw, deps.metrics.current(), deps.clock.now())
  if (!validation.ok && validation.errors.some((e) => e.field === 'metric')) {
    // Another instance may have registered the metric after we loaded the registry.
    validation = validateEventBatch(raw, await deps.metrics.refresh(), deps.clock.now())
  }
  if (!validation.ok) {
    const count = validation.errors.length
    throw new ValidationError(
      `batch rejected: ${count}${validation.truncated ? '+' : ''} invalid field${count === 1 ? '' : 's'}; nothing was stored`,
      validation.errors,
    )
  }
  const { unique, repeated } = dropRepeatedIds(validation.events)
  const { inserted, alreadyStored } = await deps.usage.insertEvents(unique)
  return { received: validation.events.length, stored: inserted, duplicates: repeated + alreadyStored }
}
