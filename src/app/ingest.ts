import { createHash } from 'node:crypto'
import { MAX_EVENTS_PER_BATCH, validateEventBatch } from '../domain/events.js'
import { type FieldIssue, PayloadTooLargeError, ValidationError } from '../errors.js'
import type { Clock, Telemetry, UsageStore } from '../ports.js'
import type { MetricCatalog } from './metric-catalog.js'

export interface IngestResult {
  received: number
  /** Events this request added. */
  stored: number
  /** Events already stored (an id stored before with the same content, or repeated in this batch; a replay). */
  duplicates: number
  /** Events whose event_id is already stored with other content: not stored, not counted, listed in `details`. */
  conflicts: number
  details: FieldIssue[]
  /** The Idempotency-Key named a request already stored: nothing was added this time. */
  replayed: boolean
}

export interface IngestOptions {
  /** The `Idempotency-Key` header: the whole request is stored at most once (see the README). */
  idempotencyKey?: string
  /** Who sends it (the API key id): Idempotency-Keys are per caller. */
  caller?: string
  /** Size of the request body as received (for the ingested-bytes counter; absent or invalid counts 0). */
  bytes?: number
}

export interface IngestDeps {
  usage: UsageStore
  metrics: MetricCatalog
  clock: Clock
  telemetry: Telemetry
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255
const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]+$/
const REPORTED_CONFLICTS = 100

/** Validates the whole batch, then stores it; a batch with any invalid event stores nothing. */
export async function ingestEvents(
  deps: IngestDeps,
  raw: unknown,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const key = options.idempotencyKey
  if (
    key !== undefined &&
    (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !IDEMPOTENCY_KEY_PATTERN.test(key))
  ) {
    throw new ValidationError('invalid Idempotency-Key header', [
      {
        field: 'Idempotency-Key',
        reason: `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
      },
    ])
  }
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
  const { events } = validation
  const result = await deps.usage.insertEvents(
    events,
    key === undefined ? undefined : { key, scope: options.caller ?? '', fingerprint: fingerprint(events) },
  )
  const counts = {
    stored: result.inserted,
    duplicates: result.alreadyStored.length,
    conflicts: result.conflicts.length,
  }
  const bytes = options.bytes
  deps.telemetry.eventsIngested(
    counts,
    bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : 0,
  )
  return {
    received: events.length,
    ...counts,
    details: result.conflicts.slice(0, REPORTED_CONFLICTS).map((index) => ({
      index,
      field: 'event_id',
      reason:
        'this event_id is already stored with another customer_id, metric, value or timestamp: not stored',
    })),
    replayed: result.replayed,
  }
}

/** What an Idempotency-Key promises: the same events, in the same order. */
function fingerprint(events: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(events)).digest('hex')
}
