import { z } from 'zod'
import { ID_PATTERN, MAX_ID_LENGTH } from '../../domain/events.js'
import { RUN_TRIGGERS } from '../../domain/run.js'
import { MAX_SHARDS, type ShardTask } from '../../domain/shard.js'
import { isHourAligned, MIN_TIMESTAMP_MS, toIso } from '../../domain/time.js'
import { type FieldIssue, ValidationError } from '../../errors.js'

/**
 * The wire format of a shard task (one SQS message body): compact JSON of exactly the ShardTask fields, written
 * and read through the one schema below, so the coordinator can only send what a worker accepts.
 */

/** Largest task ever sent (the bounds below): ids are printable ASCII, so a character is a byte. */
export const MAX_SHARD_TASK_BODY_BYTES = 1024
/** The latest time whose ISO 8601 form keeps a 4-digit year; anything later is a corrupted number. */
export const MAX_TASK_TIME_MS = Date.UTC(9999, 11, 31, 23)

const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]+$/
const TRIGGER_NAMES = RUN_TRIGGERS

/** A type error says 'is required' when the field is absent, else `reason`. */
const typed = (reason: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : reason),
})

const epochMs = z
  .int(typed('must be an integer (epoch milliseconds)'))
  .min(MIN_TIMESTAMP_MS, `must not be before ${toIso(MIN_TIMESTAMP_MS)}`)
  .max(MAX_TASK_TIME_MS, `must not be after ${toIso(MAX_TASK_TIME_MS)}`)

const customerBound = z
  .string(typed('must be a string'))
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .refine((bound) => bound === '' || ID_PATTERN.test(bound), 'must be printable ASCII without spaces')

const shape = {
  runId: z
    .string(typed('must be a string'))
    .min(1, 'must not be empty')
    .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
    .regex(RUN_ID_PATTERN, 'must contain only A-Z a-z 0-9 . _ : -'),
  slot: epochMs.refine(isHourAligned, 'must be on an hour boundary'),
  trigger: z.enum(TRIGGER_NAMES, typed(`must be one of ${TRIGGER_NAMES.join(', ')}`)),
  startedAt: epochMs,
  backfill: z.boolean(typed('must be true or false')),
  index: z
    .int(typed('must be an integer'))
    .min(0, 'must be 0 or more')
    .max(MAX_SHARDS - 1, `must be below ${MAX_SHARDS}`),
  total: z
    .int(typed('must be an integer'))
    .min(1, 'must be 1 or more')
    .max(MAX_SHARDS, `must be at most ${MAX_SHARDS}`),
  range: z
    .strictObject({ from: customerBound, to: customerBound }, typed('must be an object { from, to }'))
    .refine((r) => r.to === '' || r.from < r.to, {
      error: 'must be after range.from (or empty: no end)',
      path: ['to'],
    }),
} satisfies Record<keyof ShardTask, z.ZodType>

const shardTaskSchema: z.ZodType<ShardTask> = z
  .strictObject(shape, typed('must be a JSON object'))
  .refine((task) => task.index < task.total, { error: 'must be less than total', path: ['index'] })

/** The message body for `task`; a ValidationError naming the field when the task is not one a worker would accept. */
export function serializeShardTask(task: ShardTask): string {
  return JSON.stringify(validate(task, 'shard task to send'))
}

/** The task in a message body; a ValidationError naming the field (`body` when it is not a JSON object at all). */
export function parseShardTask(body: string): ShardTask {
  if (typeof body !== 'string')
    throw invalid('shard task message', [{ field: 'body', reason: 'must be a string' }])
  if (body.length > MAX_SHARD_TASK_BODY_BYTES) {
    const reason = `is ${body.length} characters; a shard task is at most ${MAX_SHARD_TASK_BODY_BYTES}`
    throw invalid('shard task message', [{ field: 'body', reason }])
  }
  let raw: unknown
  try {
    raw = JSON.parse(body)
  } catch {
    throw invalid('shard task message', [{ field: 'body', reason: 'is not JSON' }])
  }
  return validate(raw, 'shard task message')
}

function validate(raw: unknown, what: string): ShardTask {
  const result = shardTaskSchema.safeParse(raw)
  if (result.success) return result.data
  throw invalid(what, result.error.issues.flatMap(toFieldIssues))
}

function toFieldIssues(issue: z.core.$ZodIssue): FieldIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const parent = issue.path.join('.')
    return issue.keys.slice(0, 5).map((key) => ({
      field: parent === '' ? key.slice(0, MAX_ID_LENGTH) : `${parent}.${key.slice(0, MAX_ID_LENGTH)}`,
      reason: 'is not a shard task field',
    }))
  }
  return [{ field: issue.path.length === 0 ? 'body' : issue.path.join('.'), reason: issue.message }]
}

function invalid(what: string, details: FieldIssue[]): ValidationError {
  const summary = details.map((d) => `${d.field} ${d.reason}`).join('; ')
  return new ValidationError(`Invalid ${what}: ${summary}`, details)
}
