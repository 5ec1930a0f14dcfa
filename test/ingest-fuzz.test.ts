import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

// Property: whatever the body and headers of POST /v1/events, the server never answers 5xx, a rejection names
// a field for every problem it reports, and a rejected request changes nothing (raw rows and rollup).

const NOW = Date.UTC(2026, 10, 25, 12)
const HOUR = 3_600_000
let h: Harness
beforeAll(async () => {
  h = await openHarness(NOW)
})
afterAll(async () => {
  await h?.close()
})

async function snapshot() {
  const [total] = await h.meterflow.usage.aggregateWindows('fuzz', 'api_calls', 'sum', [
    { startMs: NOW - 400 * 24 * HOUR, endMs: NOW + 2 * HOUR },
  ])
  return { rows: await h.meterflow.usage.countEvents(), rollup: total?.value, events: total?.events }
}

const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -0, 1e15, 1e15 + 1, Number.MAX_SAFE_INTEGER, 2 ** 64, -1, 0.1),
  fc.constantFrom('1e309', 'NaN', 'Infinity', '-0', '12', ''),
)
const hostileString = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', 'a b', '\u0000', 'é', 'x'.repeat(129), '__proto__', 'constructor'),
)
const field = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const hostileEvent = fc.record(
  {
    event_id: field(fc.oneof(hostileString, hostileNumber, fc.constant(null))),
    customer_id: field(fc.oneof(fc.constant('fuzz'), hostileString, hostileNumber)),
    metric: field(fc.oneof(fc.constantFrom('api_calls', 'bandwidth', 'nope'), hostileString)),
    value: field(hostileNumber),
    timestamp: field(
      fc.oneof(
        fc.integer({ min: NOW - 40 * 24 * HOUR, max: NOW + 3 * HOUR }),
        fc.constantFrom('2026-11-25T10:00:00Z', '2026-02-30T00:00:00Z', 'yesterday', '9999-12-31T23:59:59Z'),
        hostileNumber,
        hostileString,
      ),
    ),
    extra: field(fc.anything()),
  },
  { requiredKeys: [] },
)
const validEvent = fc.record(
  {
    event_id: fc.oneof(fc.constantFrom('e1', 'e2', 'e3'), fc.stringMatching(/^[a-z0-9-]{1,12}$/)),
    customer_id: fc.constant('fuzz'),
    metric: fc.constantFrom('api_calls', 'bandwidth'),
    value: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1e15, noNaN: true })),
    timestamp: fc.integer({ min: NOW - 30 * 24 * HOUR, max: NOW }),
  },
  { requiredKeys: ['customer_id', 'metric', 'value', 'timestamp'] },
)
const hostileBody = fc.oneof(
  { arbitrary: fc.array(validEvent, { minLength: 1, maxLength: 20 }), weight: 2 },
  fc.array(fc.oneof({ arbitrary: validEvent, weight: 6 }, { arbitrary: hostileEvent, weight: 1 }), {
    maxLength: 20,
  }),
  fc.array(hostileEvent, { maxLength: 20 }),
  fc.anything(),
  hostileString,
  fc.array(fc.anything(), { maxLength: 5 }),
)

describe('POST /v1/events under arbitrary input', () => {
  it('never answers 5xx; every rejection names its fields and changes nothing', async () => {
    let rejected = 0
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(
        hostileBody,
        fc.constantFrom('application/json', 'application/json', 'application/x-ndjson', 'text/plain'),
        field(fc.oneof(hostileString, fc.constant('k'))),
        async (body, contentType, idempotencyKey) => {
          const payload =
            contentType === 'application/x-ndjson' && Array.isArray(body)
              ? body.map((e) => JSON.stringify(e) ?? 'null').join('\n')
              : typeof body === 'string'
                ? body
                : (JSON.stringify(body) ?? 'null')
          const headers: Record<string, string> = { 'content-type': contentType }
          if (idempotencyKey !== undefined && /^[\t\x20-\x7e]*$/.test(idempotencyKey)) {
            headers['idempotency-key'] = idempotencyKey
          }
          const before = await snapshot()
          const res = await h.app.inject({ method: 'POST', url: '/v1/events', headers, payload })
          expect(res.statusCode, res.body).toBeLessThan(500)
          if (res.statusCode === 200) {
            accepted++
            const reply = res.json() as {
              received: number
              stored: number
              duplicates: number
              conflicts: number
            }
            expect(reply.stored + reply.duplicates + reply.conflicts).toBe(reply.received)
            const after = await snapshot()
            expect(after.rows - before.rows).toBe(reply.stored)
            return
          }
          rejected++
          const error = res.json() as {
            error: string
            message: string
            details: { field: string; reason: string }[]
          }
          expect(typeof error.error).toBe('string')
          expect(error.message.length).toBeGreaterThan(0)
          // 400s about fields name every one; a wrong content type or body size names what was wrong too
          if (res.statusCode === 400 && error.error === 'validation_failed') {
            expect(error.details.length).toBeGreaterThan(0)
            for (const d of error.details) {
              expect(d.field.length).toBeGreaterThan(0)
              expect(d.reason.length).toBeGreaterThan(0)
            }
          }
          expect(await snapshot()).toEqual(before)
        },
      ),
      { numRuns: 300, seed: 20261130 },
    )
    // The generator must reach both sides, or the property says little.
    expect(accepted).toBeGreaterThan(0)
    expect(rejected).toBeGreaterThan(100)
  }, 240_000)
})
