import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_ID_LENGTH } from '../../domain/events.js'
import { MAX_SHARDS, type ShardTask } from '../../domain/shard.js'
import { HOUR_MS, MIN_TIMESTAMP_MS } from '../../domain/time.js'
import { ValidationError } from '../../errors.js'
import {
  MAX_SHARD_TASK_BODY_BYTES,
  MAX_TASK_TIME_MS,
  parseShardTask,
  serializeShardTask,
} from './shard-task.js'

const SLOT = Date.UTC(2026, 10, 25, 10)
const TASK: ShardTask = {
  runId: '6f1c2a1e-8d0b-4c57-9a3e-0b5d7e2f4c11',
  slot: SLOT,
  trigger: 'schedule',
  startedAt: SLOT + 2_345,
  backfill: false,
  index: 2,
  total: 8,
  range: { from: 'acme-0042', to: 'globex|eu-7' },
}

/** The ValidationError `fn` throws, or a failure when it throws something else or nothing. */
function rejection(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ValidationError) return err
    throw err
  }
  throw new Error('expected a ValidationError, got a value')
}

/** The body of TASK with some fields replaced (or added). */
const bodyWith = (patch: Record<string, unknown>) => JSON.stringify({ ...TASK, ...patch })
const bodyWithRange = (patch: Record<string, unknown>) => bodyWith({ range: { ...TASK.range, ...patch } })

/** The body of TASK without `field`. */
function bodyWithout(field: keyof ShardTask): string {
  const { [field]: _, ...rest } = TASK
  return JSON.stringify(rest)
}

describe('shard task messages', () => {
  it('round-trips real tasks as compact JSON', () => {
    const first: ShardTask = { ...TASK, index: 0, range: { from: '', to: 'b' }, trigger: 'lambda' }
    const last: ShardTask = { ...TASK, index: 7, range: { from: 'x', to: '' }, backfill: true }
    const whole: ShardTask = { ...TASK, index: 0, total: 1, range: { from: '', to: '' }, trigger: 'api' }
    for (const task of [TASK, first, last, whole]) {
      const body = serializeShardTask(task)
      expect(body).not.toMatch(/\s/)
      expect(parseShardTask(body)).toStrictEqual(task)
    }
  })

  it('keeps the largest possible task far inside the SQS message and batch limits', () => {
    // JSON escapes `"` and `\` to two characters: ranges of them are the longest bodies there can be.
    const largest: ShardTask = {
      runId: 'r'.repeat(MAX_ID_LENGTH),
      slot: Math.floor(MAX_TASK_TIME_MS / HOUR_MS) * HOUR_MS,
      trigger: 'schedule',
      startedAt: MAX_TASK_TIME_MS,
      backfill: false,
      index: MAX_SHARDS - 2,
      total: MAX_SHARDS - 1,
      range: { from: '"'.repeat(MAX_ID_LENGTH), to: '\\'.repeat(MAX_ID_LENGTH) },
    }
    const body = serializeShardTask(largest)
    expect(parseShardTask(body)).toStrictEqual(largest)
    expect(Buffer.byteLength(body)).toBeGreaterThan(0.6 * MAX_SHARD_TASK_BODY_BYTES)
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_SHARD_TASK_BODY_BYTES)
    // SQS: 256 KiB per message and per batch of 10 (1 MiB since 2025).
    expect(10 * MAX_SHARD_TASK_BODY_BYTES).toBeLessThan(256 * 1024)
  })

  const hostile: [string, string, string][] = [
    ['not JSON', 'runId=1&slot=2', 'body'],
    ['empty', '', 'body'],
    ['a JSON string', '"task"', 'body'],
    ['an array', `[${serializeShardTask(TASK)}]`, 'body'],
    ['null', 'null', 'body'],
    ['over the size limit', `${serializeShardTask(TASK)}${' '.repeat(MAX_SHARD_TASK_BODY_BYTES)}`, 'body'],
    ...(['runId', 'slot', 'trigger', 'startedAt', 'backfill', 'index', 'total', 'range'] as const).map(
      (field): [string, string, string] => [`without ${field}`, bodyWithout(field), field],
    ),
    ['without range.to', bodyWith({ range: { from: 'a' } }), 'range.to'],
    ['slot 1e400 (Infinity)', serializeShardTask(TASK).replace(String(SLOT), '1e400'), 'slot'],
    ['slot "NaN"', bodyWith({ slot: 'NaN' }), 'slot'],
    ['slot null', bodyWith({ slot: null }), 'slot'],
    ['slot off the hour', bodyWith({ slot: SLOT + 1 }), 'slot'],
    ['slot in epoch seconds', bodyWith({ slot: SLOT / 1000 }), 'slot'],
    ['slot beyond year 9999', bodyWith({ slot: MAX_TASK_TIME_MS + HOUR_MS }), 'slot'],
    ['startedAt 2^53 + 2', bodyWith({ startedAt: 2 ** 53 + 2 }), 'startedAt'],
    ['startedAt fractional', bodyWith({ startedAt: SLOT + 0.5 }), 'startedAt'],
    ['startedAt a string', bodyWith({ startedAt: String(SLOT) }), 'startedAt'],
    ['index = total', bodyWith({ index: 8 }), 'index'],
    ['index > total', bodyWith({ index: 9 }), 'index'],
    ['index negative', bodyWith({ index: -1 }), 'index'],
    ['index fractional', bodyWith({ index: 1.5 }), 'index'],
    ['index 1e400', serializeShardTask(TASK).replace('"index":2', '"index":1e400'), 'index'],
    ['total 0', bodyWith({ total: 0, index: 0 }), 'total'],
    ['total above the shard limit', bodyWith({ total: MAX_SHARDS + 1 }), 'total'],
    ['trigger unknown', bodyWith({ trigger: 'cron' }), 'trigger'],
    ['backfill a string', bodyWith({ backfill: 'false' }), 'backfill'],
    ['backfill 0', bodyWith({ backfill: 0 }), 'backfill'],
    ['runId a number', bodyWith({ runId: 42 }), 'runId'],
    ['runId empty', bodyWith({ runId: '' }), 'runId'],
    ['runId too long', bodyWith({ runId: 'r'.repeat(MAX_ID_LENGTH + 1) }), 'runId'],
    ['runId with a slash', bodyWith({ runId: 'run/../x' }), 'runId'],
    ['range an array', bodyWith({ range: ['a', 'b'] }), 'range'],
    ['range.from a number', bodyWithRange({ from: 7 }), 'range.from'],
    ['range.from too long', bodyWithRange({ from: 'c'.repeat(MAX_ID_LENGTH + 1) }), 'range.from'],
    ['range.from with a space', bodyWithRange({ from: 'acme corp' }), 'range.from'],
    ['range.to non-ASCII', bodyWithRange({ to: 'zürich' }), 'range.to'],
    ['range.to before range.from', bodyWithRange({ to: 'acme-0001' }), 'range.to'],
    ['range.to equal to range.from', bodyWithRange({ to: 'acme-0042' }), 'range.to'],
    ['an extra field', bodyWith({ priority: 1 }), 'priority'],
    ['an extra range field', bodyWithRange({ step: 1 }), 'range.step'],
    ['a __proto__ field', serializeShardTask(TASK).replace('{', '{"__proto__":{"admin":true},'), '__proto__'],
  ]

  it.each(hostile)('rejects a body %s, naming the field', (_, body, field) => {
    const error = rejection(() => parseShardTask(body))
    expect(error.code).toBe('validation_failed')
    expect(error.details.map((d) => d.field)).toContain(field)
    expect(error.message).toContain(field)
    for (const detail of error.details) expect(detail.reason.length).toBeGreaterThan(0)
  })

  it('refuses to serialize a task no worker would accept', () => {
    const error = rejection(() => serializeShardTask({ ...TASK, slot: Number.NaN }))
    expect(error.details).toStrictEqual([
      { field: 'slot', reason: 'must be an integer (epoch milliseconds)' },
    ])
    const extra = { ...TASK, secret: 'x' } as ShardTask
    expect(rejection(() => serializeShardTask(extra)).details.map((d) => d.field)).toEqual(['secret'])
  })
})

const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: MAX_ID_LENGTH,
})

const shardTask: fc.Arbitrary<ShardTask> = fc
  .record({
    runId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    slot: fc
      .integer({ min: MIN_TIMESTAMP_MS / HOUR_MS, max: Math.floor(MAX_TASK_TIME_MS / HOUR_MS) })
      .map((h) => h * HOUR_MS),
    trigger: fc.constantFrom('schedule', 'api', 'cli', 'lambda' as const),
    startedAt: fc.integer({ min: MIN_TIMESTAMP_MS, max: MAX_TASK_TIME_MS }),
    backfill: fc.boolean(),
    shards: fc
      .integer({ min: 1, max: MAX_SHARDS })
      .chain((total) =>
        fc.record({ total: fc.constant(total), index: fc.integer({ min: 0, max: total - 1 }) }),
      ),
    bounds: fc.tuple(printable, printable),
  })
  .map(({ shards, bounds: [a, b], ...rest }) => ({
    ...rest,
    ...shards,
    // '' as `to` is the open end; equal bounds would be an empty range, which no planner sends.
    range: a === b || b === '' ? { from: a, to: '' } : a < b ? { from: a, to: b } : { from: b, to: a },
  }))

describe('shard task messages (properties)', () => {
  it('parse(serialize(task)) is the task, within the body size limit', () => {
    fc.assert(
      fc.property(shardTask, (task) => {
        const body = serializeShardTask(task)
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_SHARD_TASK_BODY_BYTES)
        expect(parseShardTask(body)).toStrictEqual(task)
      }),
      { numRuns: 500 },
    )
  })

  it('answers any JSON with a task or a ValidationError naming fields, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          shardTask.map((t) => ({ ...t, index: t.total })),
        ),
        (value) => {
          try {
            parseShardTask(JSON.stringify(value) ?? '')
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError)
            expect((err as ValidationError).details.length).toBeGreaterThan(0)
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
