import { describe, expect, it } from 'vitest'
import { dropRepeatedIds, MAX_REPORTED_ERRORS, validateEventBatch } from './events.js'
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

  it('accepts huge finite values', () => {
    expect(validateEventBatch([{ ...good, value: 1.7e308 }], registry, now).ok).toBe(true)
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

describe('dropRepeatedIds', () => {
  it('keeps the first of each id and every event without one', () => {
    const base = { customerId: 'a', metric: 'api_calls', value: 1, timestampMs: now }
    const { unique, repeated } = dropRepeatedIds([
      { ...base, eventId: 'x' },
      { ...base, eventId: null },
      { ...base, eventId: 'x', value: 2 },
      { ...base, eventId: null },
    ])
    expect(unique.map((e) => e.value)).toEqual([1, 1, 1])
    expect(repeated).toBe(1)
  })
})
