import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

const NOW = Date.UTC(2026, 10, 25, 12)
const HOUR = 3_600_000
let h: Harness

beforeAll(async () => {
  h = await openHarness(NOW)
})
afterAll(async () => {
  await h?.close()
})

const post = (payload: unknown, contentType = 'application/json') =>
  h.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  })

/** Raw row count and the rollup's total, so a test can prove a request changed nothing in either. */
async function snapshot() {
  const [total] = await h.meterflow.usage.aggregateWindows('c-ingest', 'api_calls', 'sum', [
    { startMs: NOW - 400 * 24 * HOUR, endMs: NOW + HOUR },
  ])
  return { rows: await h.meterflow.usage.countEvents(), rollup: total?.value, rollupEvents: total?.events }
}

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `ev-${i}`,
  customer_id: 'c-ingest',
  metric: 'api_calls',
  value: 10,
  timestamp: NOW - (i + 1) * HOUR,
  ...extra,
})

describe('POST /v1/events', () => {
  it('stores a JSON array and rolls it up by hour', async () => {
    const res = await post([event(0), event(1), { ...event(2), event_id: undefined }])
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ received: 3, stored: 3, duplicates: 0 })
    expect(await snapshot()).toEqual({ rows: 3, rollup: 30, rollupEvents: 3 })
  })

  it('stores NDJSON', async () => {
    const body = `${JSON.stringify(event(3))}\n\n${JSON.stringify(event(4))}\n`
    const res = await post(body, 'application/x-ndjson')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ received: 2, stored: 2, duplicates: 0 })
    expect((await snapshot()).rows).toBe(5)
  })

  it('counts an event re-sent in another batch once, in raw rows and in the rollup', async () => {
    const res = await post([event(0), event(3), event(5)])
    expect(res.json()).toEqual({ received: 3, stored: 1, duplicates: 2 })
    expect(await snapshot()).toEqual({ rows: 6, rollup: 60, rollupEvents: 6 })
  })

  it('counts a retried batch without event ids once', async () => {
    const batch = [
      { customer_id: 'c-ingest', metric: 'api_calls', value: 7, timestamp: NOW - 50 * HOUR },
      { customer_id: 'c-ingest', metric: 'api_calls', value: 8, timestamp: NOW - 51 * HOUR },
    ]
    expect((await post(batch)).statusCode).toBe(200)
    const before = await snapshot()
    expect((await post(batch)).statusCode).toBe(200)
    expect(await snapshot()).toEqual(before)
    expect(before.rollup).toBe(75)
  })

  it('counts an id repeated inside one batch once', async () => {
    const res = await post([event(6), event(6, { value: 99 })])
    expect(res.json()).toEqual({ received: 2, stored: 1, duplicates: 1 })
  })
})

describe('bad input changes nothing', () => {
  const oversizeEvents = Array.from({ length: 10_001 }, (_, i) => event(1000 + i))
  const cases: [string, () => Promise<{ statusCode: number; json(): unknown }>, number, RegExp][] = [
    ['one bad event in a good batch', () => post([event(100), event(101, { value: -5 })]), 400, /value/],
    ['an unknown metric', () => post([event(102, { metric: 'gpu_hours' })]), 400, /unknown metric/],
    ['an unknown field', () => post([event(103, { region: 'eu' })]), 400, /region/],
    [
      'a timestamp in epoch seconds',
      () => post([event(104, { timestamp: 1_700_000_000 })]),
      400,
      /epoch seconds/,
    ],
    ['a future timestamp', () => post([event(105, { timestamp: NOW + 5 * HOUR })]), 400, /future/],
    ['a value as a string', () => post([event(106, { value: '10' })]), 400, /finite number/],
    ['an empty batch', () => post([]), 400, /empty/],
    ['an object instead of an array', () => post({ events: [event(107)] }), 400, /array/],
    ['malformed JSON', () => post('[{"customer_id": "c"'), 400, /JSON/],
    [
      'a bad NDJSON line',
      () => post(`${JSON.stringify(event(108))}\n{oops\n`, 'application/x-ndjson'),
      400,
      /line 2/,
    ],
    ['more than 10,000 events', () => post(oversizeEvents), 413, /10000/],
    ['a body over 5 MiB', () => post(`[${' '.repeat(5 * 1024 * 1024)}]`), 413, /5 MiB/],
    ['a text/plain body', () => post('hello', 'text/plain'), 415, /content type/],
    ['a form body', () => post('a=b', 'application/x-www-form-urlencoded'), 415, /content type/],
  ]

  for (const [name, send, status, message] of cases) {
    it(`rejects ${name} with ${status} and stores nothing`, async () => {
      const before = await snapshot()
      const res = await send()
      expect(res.statusCode).toBe(status)
      const body = res.json() as { error: string; message: string; details: unknown[] }
      expect(typeof body.error).toBe('string')
      expect(`${body.message} ${JSON.stringify(body.details)}`).toMatch(message)
      expect(await snapshot()).toEqual(before)
    })
  }

  it('names the index, field and reason of each bad event', async () => {
    const res = await post([event(200), event(201, { customer_id: '' }), event(202, { timestamp: 'soon' })])
    expect(res.json()).toMatchObject({
      error: 'validation_failed',
      details: [
        { index: 1, field: 'customer_id', reason: expect.stringMatching(/printable/) },
        { index: 2, field: 'timestamp', reason: expect.stringMatching(/ISO 8601/) },
      ],
    })
  })
})
