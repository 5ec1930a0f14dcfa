import { describe, expect, it } from 'vitest'
import { classifyById, MAX_EVENT_VALUE, MAX_REPORTED_ERRORS, validateEventBatch } from './events.js'
import { MetricRegistry, SEED_METRICS } from './metrics.js'

const registry = new MetricRegistry(SEED_METRICS)
const now = Date.UTC(2026, 10, 25, 12)
const good = { customer_id: 'acme', metric: 'api_calls', value: 12, timestamp: '2026-11-25T10:00:00Z' }

describe('validateEventBatch', () => {
  it('accepts a valid batch and normalises it', () => {
    const result = validateEventBatch(
      [good, { ...good, event_id: 'e1', timestamp: now - 1000 }],
      registry,
      now,
    )
    expect(result).toEqual({
      ok: true,
      events: [
        {
          eventId: null,
          customerId: 'acme',
          metric: 'api_calls',
          value: 12,
          timestampMs: Date.UTC(2026, 10, 25, 10),
        },
        { eventId: 'e1', customerId: 'acme', metric: 'api_calls', value: 12, timestampMs: now - 1000 },
      ],
    })
  })

  it('reports every bad field with its index, and rejects the whole batch', () => {
    const result = validateEventBatch(
      [good, { customer_id: 'a b', metric: 'nope', value: -1, timestamp: 'x' }, { ...good, value: '5' }],
      registry,
      now,
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'customer_id'],
      [1, 'metric'],
      [1, 'value'],
      [1, 'timestamp'],
      [2, 'value'],
    ])
    expect(result.errors[1]?.reason).toMatch(/unknown metric 'nope'; registered: api_calls/)
  })

  it('names missing and unknown fields', () => {
    const result = validateEventBatch([{ customer_id: 'a', extra: true }], registry, now)
    expect(result.ok ? [] : result.errors.map((e) => `${e.field}: ${e.reason}`)).toEqual([
      'extra: unknown field',
      'metric: is required',
      'value: is required',
      'timestamp: is required',
    ])
  })

  it('rejects non-finite values, non-objects, empty and non-array bodies', () => {
    expect(validateEventBatch([{ ...good, value: Number.POSITIVE_INFINITY }], registry, now).ok).toBe(false)
    expect(validateEventBatch([42], registry, now).ok).toBe(false)
    expect(validateEventBatch([], registry, now).ok).toBe(false)
    expect(validateEventBatch({ events: [] }, registry, now).ok).toBe(false)
  })

  it('rejects events more than an hour in the future', () => {
    expect(validateEventBatch([{ ...good, timestamp: now + 30 * 60_000 }], registry, now).ok).toBe(true)
    expect(validateEventBatch([{ ...good, timestamp: now + 2 * 3_600_000 }], registry, now).ok).toBe(false)
  })

  it('caps the number of reported errors', () => {
    const bad = Array.from({ length: 500 }, () => ({ ...good, value: -1 }))
    const result = validateEventBatch(bad, registry, now)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors).toHaveLength(MAX_REPORTED_ERRORS)
    expect(result.truncated).toBe(true)
  })
})

describe('unknown fields', () => {
  it('names an empty or overlong field name readably', () => {
    const result = validateEventBatch([{ ...good, '': 1, ['k'.repeat(500)]: 2 }], registry, now)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toEqual(['(empty name)', 'k'.repeat(128)])
    }
  })
})

describe('value bounds', () => {
  it('accepts the maximum and refuses anything above it, naming the field', () => {
    expect(validateEventBatch([{ ...good, value: MAX_EVENT_VALUE }], registry, now).ok).toBe(true)
    for (const value of [MAX_EVENT_VALUE * 1.000001, 1e308, Number.MAX_VALUE]) {
      const result = validateEventBatch([{ ...good, value }], registry, now)
      expect(result.ok).toBe(false)
      if (!result.ok)
        expect(result.errors).toEqual([{ index: 0, field: 'value', reason: 'must be at most 1e+15' }])
    }
  })
})

describe('classifyById', () => {
  const base = { customerId: 'a', metric: 'api_calls', value: 1, timestampMs: now }
  const none = new Map()

  it('keeps the first of each id and every event without one, even identical ones', () => {
    const split = classifyById(
      [
        { ...base, eventId: 'x' },
        { ...base, eventId: null },
        { ...base, eventId: 'x' },
        { ...base, eventId: null },
      ],
      none,
    )
    expect(split.fresh).toHaveLength(3)
    expect(split.duplicates).toEqual([2])
    expect(split.conflicts).toEqual([])
  })

  it('reports a reused id with other content as a conflict, whatever field differs', () => {
    const split = classifyById(
      [
        { ...base, eventId: 'x' },
        { ...base, eventId: 'x', value: 2 },
        { ...base, eventId: 'x', customerId: 'b' },
        { ...base, eventId: 'x', metric: 'bandwidth' },
        { ...base, eventId: 'x', timestampMs: now + 1 },
        { ...base, eventId: 'x' },
      ],
      none,
    )
    expect(split.fresh).toEqual([{ ...base, eventId: 'x' }])
    expect(split.conflicts).toEqual([1, 2, 3, 4])
    expect(split.duplicates).toEqual([5])
  })

  it('judges every event of a stored id against the stored event, not the first in the batch', () => {
    const stored = new Map([['x', { ...base, eventId: 'x' }]])
    const split = classifyById(
      [
        { ...base, eventId: 'x', value: 5 },
        { ...base, eventId: 'x' },
        { ...base, eventId: 'y' },
      ],
      stored,
    )
    expect(split.conflicts).toEqual([0])
    expect(split.duplicates).toEqual([1])
    expect(split.fresh).toEqual([{ ...base, eventId: 'y' }])
  })

  it('in a replayed request, counts events without an id and new ids as already stored', () => {
    const split = classifyById(
      [
        { ...base, eventId: null },
        { ...base, eventId: 'z' },
      ],
      none,
      true,
    )
    expect(split).toEqual({ fresh: [], duplicates: [0, 1], conflicts: [] })
  })
})
