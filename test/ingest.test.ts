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

const post = (payload: unknown, contentType = 'application/json', headers: Record<string, string> = {}) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': contentType, ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  })
const withKey = (payload: unknown, key: string) =>
  post(payload, 'application/json', { 'idempotency-key': key })
const reply = (received: number, stored: number, duplicates: number) => ({
  received,
  stored,
  duplicates,
  conflicts: 0,
  details: [],
  replayed: false,
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
    expect(res.json()).toEqual(reply(3, 3, 0))
    expect(await snapshot()).toEqual({ rows: 3, rollup: 30, rollupEvents: 3 })
  })

  it('stores NDJSON', async () => {
    const body = `${JSON.stringify(event(3))}\n\n${JSON.stringify(event(4))}\n`
    const res = await post(body, 'application/x-ndjson')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(reply(2, 2, 0))
    expect((await snapshot()).rows).toBe(5)
  })

  it('counts an event re-sent in another batch once, in raw rows and in the rollup', async () => {
    const res = await post([event(0), event(3), event(5)])
    expect(res.json()).toEqual(reply(3, 1, 2))
    expect(await snapshot()).toEqual({ rows: 6, rollup: 60, rollupEvents: 6 })
  })

  it('never merges events without an id: a batch sent twice without a key is stored twice', async () => {
    const batch = [
      { customer_id: 'c-ingest', metric: 'api_calls', value: 7, timestamp: NOW - 50 * HOUR },
      { customer_id: 'c-ingest', metric: 'api_calls', value: 8, timestamp: NOW - 51 * HOUR },
    ]
    const before = await snapshot()
    expect((await post(batch)).json()).toEqual(reply(2, 2, 0))
    expect((await post(batch)).json()).toEqual(reply(2, 2, 0))
    expect(await snapshot()).toEqual({
      rows: before.rows + 4,
      rollup: (before.rollup ?? 0) + 30,
      rollupEvents: (before.rollupEvents ?? 0) + 4,
    })
  })

  it('stores a request once per Idempotency-Key, however often and late it is retried', async () => {
    const batch = [
      { customer_id: 'c-ingest', metric: 'api_calls', value: 3, timestamp: NOW - 60 * HOUR },
      { customer_id: 'c-ingest', metric: 'api_calls', value: 3, timestamp: NOW - 60 * HOUR },
      event(7),
    ]
    const before = await snapshot()
    expect((await withKey(batch, 'req-1')).json()).toEqual(reply(3, 3, 0))
    // Thousands of other inserts do not age the key out (the engine's block deduplication would).
    for (let i = 0; i < 30; i++) await post([{ ...event(5000 + i), value: 0 }])
    const again = await withKey(batch, 'req-1')
    expect(again.json()).toEqual({ ...reply(3, 0, 3), replayed: true })
    const after = await snapshot()
    expect(after.rollup).toBe((before.rollup ?? 0) + 16)
    expect(after.rows).toBe(before.rows + 3 + 30)
  })

  it('refuses an Idempotency-Key reused for another body with 422, storing nothing', async () => {
    expect((await withKey([event(8)], 'req-2')).statusCode).toBe(200)
    const before = await snapshot()
    const res = await withKey([event(9)], 'req-2')
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      error: 'idempotency_key_reused',
      details: [{ field: 'Idempotency-Key' }],
    })
    expect(await snapshot()).toEqual(before)
  })

  it('rejects a malformed Idempotency-Key with 400 naming the header', async () => {
    const res = await withKey([event(10)], 'x'.repeat(256))
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ details: [{ field: 'Idempotency-Key' }] })
  })

  it('counts an id repeated inside one batch once, and reports a reused id with other content', async () => {
    const res = await post([event(6), event(6), event(6, { value: 99 })])
    expect(res.json()).toEqual({
      ...reply(3, 1, 1),
      conflicts: 1,
      details: [{ index: 2, field: 'event_id', reason: expect.stringMatching(/already stored/) }],
    })
  })

  it('counts a stored id once whatever a re-sent event says, and reports each different one', async () => {
    const before = await snapshot()
    const res = await post([
      event(0, { value: 11 }),
      event(0, { timestamp: NOW - 300 * HOUR }),
      event(0, { customer_id: 'someone-else' }),
      event(0, { metric: 'bandwidth' }),
      event(0),
    ])
    expect(res.json()).toMatchObject({ received: 5, stored: 0, duplicates: 1, conflicts: 4 })
    expect((res.json() as { details: { index: number }[] }).details.map((d) => d.index)).toEqual([0, 1, 2, 3])
    expect(await snapshot()).toEqual(before)
  })

  it('finds stored ids again whatever printable characters they hold, and 10,000 ids of 128 in one batch', async () => {
    // The look-up sends the ids as TSV (ingest-ledger.ts): a backslash is its escape character.
    const odd = ['back\\slash', 'ends\\', '\\t-not-a-tab', 'quote\'s"', '{"json":[1]}', '%s,;|~`^']
    const oddEvents = odd.map((id, k) => ({ ...event(0), customer_id: 'c-odd', event_id: id, value: k + 1 }))
    expect((await post(oddEvents)).json()).toEqual(reply(odd.length, odd.length, 0))
    const before = await snapshot()
    expect((await post(oddEvents)).json()).toEqual(reply(odd.length, 0, odd.length))
    expect((await post([{ ...oddEvents[0], value: 50 }])).json()).toMatchObject({ stored: 0, conflicts: 1 })
    expect(await snapshot()).toEqual(before)
    // 1.3 MB of ids: past the size where an array parameter stops using the ledger's sort key.
    const long = Array.from({ length: 10_000 }, (_, k) => ({
      ...event(0),
      customer_id: 'c-long',
      event_id: `long-${String(k).padStart(5, '0')}-${'x'.repeat(128 - 11)}`,
    }))
    expect((await post(long)).json()).toEqual(reply(10_000, 10_000, 0))
    expect((await post(long)).json()).toEqual(reply(10_000, 0, 10_000))
  })

  it('stores five concurrent copies of a batch once, and each reply says what it added', async () => {
    const batch = Array.from({ length: 500 }, (_, k) =>
      event(k, { event_id: `copy-${k}`, value: 2, timestamp: NOW - 5 * HOUR }),
    )
    const before = await snapshot()
    const replies = (await Promise.all(Array.from({ length: 5 }, () => post(batch)))).map(
      (r) => r.json() as { stored: number; duplicates: number },
    )
    expect(replies.reduce((sum, r) => sum + r.stored, 0)).toBe(500)
    expect(replies.reduce((sum, r) => sum + r.duplicates, 0)).toBe(4 * 500)
    const after = await snapshot()
    expect(after.rows - before.rows).toBe(500)
    expect((after.rollup ?? 0) - (before.rollup ?? 0)).toBe(1000)
  })

  it('stores concurrent copies of an id-less request under one Idempotency-Key once', async () => {
    const batch = Array.from({ length: 50 }, () => ({
      customer_id: 'c-ingest',
      metric: 'api_calls',
      value: 1,
      timestamp: NOW - 70 * HOUR,
    }))
    const before = await snapshot()
    const replies = (await Promise.all(Array.from({ length: 5 }, () => withKey(batch, 'req-5')))).map(
      (r) => r.json() as { stored: number; replayed: boolean },
    )
    expect(replies.map((r) => r.stored).sort((a, b) => b - a)).toEqual([50, 0, 0, 0, 0])
    expect(replies.filter((r) => r.replayed)).toHaveLength(4)
    expect((await snapshot()).rows - before.rows).toBe(50)
  })

  it('refuses batches beyond a bounded queue with 503 and Retry-After, storing nothing of them', async () => {
    const before = await snapshot()
    const replies = await Promise.all(
      Array.from({ length: 14 }, (_, r) =>
        post(
          Array.from({ length: 200 }, (_, k) =>
            event(k, { event_id: `queue-${r}-${k}`, value: 1, timestamp: NOW - 6 * HOUR }),
          ),
        ),
      ),
    )
    const busy = replies.filter((r) => r.statusCode === 503)
    const accepted = replies.filter((r) => r.statusCode === 200)
    expect(busy.length).toBeGreaterThan(0)
    expect(busy.length + accepted.length).toBe(14)
    for (const r of busy) {
      expect(r.headers['retry-after']).toBe('1')
      expect(r.json()).toMatchObject({ error: 'busy' })
    }
    const stored = accepted.reduce((sum, r) => sum + (r.json() as { stored: number }).stored, 0)
    expect(stored).toBe(200 * accepted.length)
    expect((await snapshot()).rows - before.rows).toBe(stored)
  })

  it('refuses values above the documented maximum, so sums stay finite', async () => {
    const before = await snapshot()
    const res = await post([event(11, { value: 1e308 }), event(12, { value: 1e308 })])
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({
      details: [
        { index: 0, field: 'value' },
        { index: 1, field: 'value' },
      ],
    })
    expect(await snapshot()).toEqual(before)
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
