import type { MetricRegistry } from './metrics.js'
import { HOUR_MS, parseTimestamp } from './time.js'

export interface UsageEvent {
  /** Client-chosen idempotency key; an event re-sent with the same id is counted once. */
  eventId: string | null
  customerId: string
  metric: string
  value: number
  timestampMs: number
}

export interface EventFieldError {
  /** Position in the batch; absent when the problem is the batch itself. */
  index?: number
  field: string
  reason: string
}

export const MAX_EVENTS_PER_BATCH = 10_000
export const MAX_ID_LENGTH = 128
/**
 * The largest value one event may carry (a petabyte, for byte counters and gauges). Values are IEEE doubles: with
 * this bound no sum of events can overflow, and totals of integer values stay exact while they stay below 2^53
 * (about 9 x 10^15); see the README's ingest semantics.
 */
export const MAX_EVENT_VALUE = 1e15
/** Events further in the future than this are clock bugs, not usage. */
export const MAX_FUTURE_SKEW_MS = HOUR_MS
/** Stop collecting after this many errors: a wholly broken file should not produce a 10k-entry reply. */
export const MAX_REPORTED_ERRORS = 100

/** Event and customer ids: printable ASCII without spaces. */
export const ID_PATTERN = /^[\x21-\x7e]+$/

export type BatchValidation =
  | { ok: true; events: UsageEvent[] }
  | { ok: false; errors: EventFieldError[]; truncated: boolean }

/**
 * Validates a whole batch; the batch is accepted only if every event is valid (all-or-nothing).
 * `nowMs` bounds future timestamps.
 */
export function validateEventBatch(raw: unknown, registry: MetricRegistry, nowMs: number): BatchValidation {
  if (!Array.isArray(raw)) {
    return { ok: false, errors: [{ field: 'body', reason: 'must be an array of events' }], truncated: false }
  }
  if (raw.length === 0) {
    return { ok: false, errors: [{ field: 'body', reason: 'batch is empty' }], truncated: false }
  }
  if (raw.length > MAX_EVENTS_PER_BATCH) {
    return {
      ok: false,
      errors: [
        { field: 'body', reason: `batch has ${raw.length} events; the limit is ${MAX_EVENTS_PER_BATCH}` },
      ],
      truncated: false,
    }
  }
  const errors: EventFieldError[] = []
  const events: UsageEvent[] = []
  let truncated = false
  for (let index = 0; index < raw.length; index++) {
    const result = validateEvent(raw[index], index, registry, nowMs)
    if (Array.isArray(result)) {
      for (const e of result) {
        if (errors.length >= MAX_REPORTED_ERRORS) truncated = true
        else errors.push(e)
      }
    } else {
      events.push(result)
    }
  }
  return errors.length > 0 ? { ok: false, errors, truncated } : { ok: true, events }
}

const KNOWN_FIELDS = new Set(['event_id', 'customer_id', 'metric', 'value', 'timestamp'])

function validateEvent(
  item: unknown,
  index: number,
  registry: MetricRegistry,
  nowMs: number,
): UsageEvent | EventFieldError[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return [{ index, field: '(event)', reason: 'must be a JSON object' }]
  }
  const e = item as Record<string, unknown>
  const errors: EventFieldError[] = []
  const fail = (field: string, reason: string) => errors.push({ index, field, reason })

  for (const key of Object.keys(e)) {
    // Named as sent, but never empty and never longer than an id: the reply must stay readable.
    if (!KNOWN_FIELDS.has(key))
      fail(key === '' ? '(empty name)' : key.slice(0, MAX_ID_LENGTH), 'unknown field')
  }

  let eventId: string | null = null
  if (e.event_id !== undefined && e.event_id !== null) {
    if (typeof e.event_id !== 'string' || !ID_PATTERN.test(e.event_id) || e.event_id.length > MAX_ID_LENGTH) {
      fail('event_id', `must be 1-${MAX_ID_LENGTH} printable ASCII characters without spaces`)
    } else eventId = e.event_id
  }

  const customerId = e.customer_id
  if (customerId === undefined) fail('customer_id', 'is required')
  else if (
    typeof customerId !== 'string' ||
    !ID_PATTERN.test(customerId) ||
    customerId.length > MAX_ID_LENGTH
  ) {
    fail('customer_id', `must be 1-${MAX_ID_LENGTH} printable ASCII characters without spaces`)
  }

  const metric = e.metric
  if (metric === undefined) fail('metric', 'is required')
  else if (typeof metric !== 'string') fail('metric', 'must be a string')
  else if (!registry.has(metric)) {
    fail('metric', `unknown metric '${metric.slice(0, 64)}'; registered: ${registry.names().join(', ')}`)
  }

  const value = e.value
  if (value === undefined) fail('value', 'is required')
  else if (typeof value !== 'number' || !Number.isFinite(value)) fail('value', 'must be a finite number')
  else if (value < 0) fail('value', 'must not be negative')
  else if (value > MAX_EVENT_VALUE) fail('value', `must be at most ${MAX_EVENT_VALUE.toExponential()}`)

  let timestampMs = 0
  if (e.timestamp === undefined) fail('timestamp', 'is required')
  else {
    const parsed = parseTimestamp(e.timestamp)
    if (!parsed.ok) fail('timestamp', parsed.reason)
    else if (parsed.ms > nowMs + MAX_FUTURE_SKEW_MS) fail('timestamp', 'is more than 1 hour in the future')
    else timestampMs = parsed.ms
  }

  if (errors.length > 0) return errors
  return {
    eventId,
    customerId: customerId as string,
    metric: metric as string,
    value: value as number,
    timestampMs,
  }
}

/** Whether two events with the same id say the same thing (a true re-send rather than a reused id). */
export function sameEventContent(a: UsageEvent, b: UsageEvent): boolean {
  return (
    a.customerId === b.customerId &&
    a.metric === b.metric &&
    a.value === b.value &&
    a.timestampMs === b.timestampMs
  )
}

export interface IdClassification {
  /** The first event of each id neither stored nor earlier in the batch, and every event without an id. */
  fresh: UsageEvent[]
  /** Positions of events whose id is stored, or earlier in the batch, with the same content. */
  duplicates: number[]
  /** Positions of events whose id is stored, or earlier in the batch, with other content: neither stored nor counted. */
  conflicts: number[]
}

/**
 * Sorts a batch by event id: an id is counted once, whatever a later event with it says. `stored` holds the
 * stored event of each id already in the store. Events without an id are never merged with each other; with
 * `withoutIdStored` (a replayed request) they are the ones the original stored, so duplicates.
 */
export function classifyById(
  events: readonly UsageEvent[],
  stored: ReadonlyMap<string, UsageEvent>,
  withoutIdStored = false,
): IdClassification {
  const known = new Map(stored)
  const result: IdClassification = { fresh: [], duplicates: [], conflicts: [] }
  events.forEach((event, position) => {
    if (event.eventId === null) {
      if (withoutIdStored) result.duplicates.push(position)
      else result.fresh.push(event)
      return
    }
    const earlier = known.get(event.eventId)
    if (!earlier) {
      known.set(event.eventId, event)
      if (withoutIdStored) result.duplicates.push(position)
      else result.fresh.push(event)
    } else (sameEventContent(earlier, event) ? result.duplicates : result.conflicts).push(position)
  })
  return result
}
