import type { ScheduledEvent } from 'aws-lambda'
import { floorToHour } from '../domain/time.js'
import { type FieldIssue, ValidationError } from '../errors.js'

/** What a scheduled invocation runs: the slot of `event.time`, under a run id derived from the event's id. */
export interface ScheduledRun {
  slot: number
  /** Same event, same id: EventBridge redelivery and Lambda's async retries name the same run. */
  runId: string
}

/** EventBridge writes `time` as ISO 8601 UTC without fractions ("2026-11-25T12:00:00Z"); offsets are accepted. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
/** Event ids are UUIDs; other sources (a test invoke) may send any short id. */
const MAX_EVENT_ID_LENGTH = 100

/**
 * The run a ScheduledEvent asks for, or a ValidationError naming each bad field (before anything is opened or
 * written). The run id keeps the characters shard tasks allow (A-Z a-z 0-9 . _ : -); others become `_`.
 */
export function scheduledRun(event: unknown): ScheduledRun {
  const issues: FieldIssue[] = []
  const e = (typeof event === 'object' && event !== null ? event : {}) as Partial<
    Record<keyof ScheduledEvent, unknown>
  >
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    issues.push({ field: 'event', reason: 'must be an EventBridge event object' })
  }
  let slot = Number.NaN
  if (typeof e.time !== 'string') {
    issues.push({
      field: 'time',
      reason: e.time === undefined ? 'is required' : 'must be an ISO 8601 string',
    })
  } else if (!ISO_TIME.test(e.time) || !Number.isFinite(Date.parse(e.time))) {
    issues.push({ field: 'time', reason: 'must be an ISO 8601 UTC time like 2026-11-25T12:00:00Z' })
  } else {
    slot = floorToHour(Date.parse(e.time))
  }
  if (typeof e.id !== 'string' || e.id.trim() === '') {
    issues.push({ field: 'id', reason: e.id === undefined ? 'is required' : 'must be a non-empty string' })
  } else if (e.id.length > MAX_EVENT_ID_LENGTH) {
    issues.push({ field: 'id', reason: `must be at most ${MAX_EVENT_ID_LENGTH} characters` })
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid scheduled event: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}; nothing was run`,
      issues,
    )
  }
  return { slot, runId: `evt-${(e.id as string).replace(/[^A-Za-z0-9._:-]/g, '_')}` }
}
