import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BOUNDS } from '../src/domain/limits.js'
import { floorToHour, parseTimestamp } from '../src/domain/time.js'
import { incident } from './contract/anomaly-store.contract.js'
import { type Harness, openHarness } from './helpers.js'

// Property-based tests over every query parameter of the GET routes and the bodies of the write routes (POST
// /v1/events has its own): whatever arrives, never a 5xx, every 400 names a field the route has, and a rejected
// request writes nothing.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2026, 10, 25, 12, 30)
const INCIDENT = 'fuzz-incident'
const RUNS = 200
let h: Harness

beforeAll(async () => {
  h = await openHarness(NOW)
  await h.meterflow.anomalies.saveIncidents([
    incident({ id: INCIDENT, customerId: 'acme', metric: 'api_calls', openedAt: NOW - 90 * 60_000 - HOUR }),
  ])
})
afterAll(async () => {
  await h?.close()
})

// Text a client might send where a number or a time belongs.
const TRICKY = [
  '1e309',
  '-1e309',
  'Infinity',
  '-Infinity',
  'NaN',
  '-0',
  '0',
  '1',
  '-1',
  '0x10',
  ' 5',
  '',
  ' ',
  '1e300',
  '1e-320',
  '9007199254740993',
  '123456789012345678901234567890',
  '3',
  '365',
  '366',
  '1000',
  '1001',
  '1000001',
  '129600',
  '129601',
  '2099-01-01T00:00:00Z',
  '9999-12-31',
  '9999-12-31T23:59:59Z',
  '1999-12-31T23:59:59Z',
  '2026-11-25T12:00:00Z',
  '2026-11-25T13:00:00Z',
  '2025-11-25T00:00:00Z',
  String(NOW),
  String(NOW + HOUR),
  String(NOW - 400 * DAY),
  '1764000000',
  'true',
  'null',
  '[]',
  '{}',
  '\u0000',
  '☃',
  '𝕏',
  'x'.repeat(5000),
]

const text = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc
    .integer({ min: Date.UTC(1960, 0, 1), max: Date.UTC(2200, 0, 1) })
    .map((ms) => new Date(ms).toISOString()),
)

/** A query parameter's value: anything, or one the route accepts (so a request gets past its other fields). */
const queryValue = (valid: readonly string[]) =>
  valid.length > 0 ? fc.oneof(text, fc.constantFrom(...valid)) : text

/** A JSON value as the raw text on the wire: literals JSON.parse turns into Infinity or -0 included. */
const jsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('1e309', '-1e309', '-0', '0', '1e308', '1e-400', '123456789012345678901234567890', '1.5'),
  fc.constantFrom('3', '60', '129600', '129601', '1000000', '1000001', 'true', 'false', 'null', '[]', '{}'),
  // Ajv coerces these strings to numbers: Infinity, past the schema's maximum.
  fc.constantFrom('"1e309"', '"-1e309"', '"Infinity"', '"1e400"'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  text.map((s) => JSON.stringify(s)),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
)

/** Fields no body has: each must be named in the 400 it gets. */
const UNKNOWN_FIELDS = ['extra', 'Slot', ' until']

const jsonObject = (entries: [string, string][]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`

/**
 * An object body: some of the route's fields (each anything, a valid value, or for an object field an object of its
 * own), now and then an unknown one.
 */
function bodyText(
  fields: Record<string, readonly string[]>,
  objects: Record<string, fc.Arbitrary<string>> = {},
): fc.Arbitrary<string> {
  const field = (name: string) => {
    const valid = fields[name] ?? []
    const object = objects[name]
    const choices = [
      jsonText,
      ...(valid.length > 0 ? [fc.constantFrom(...valid)] : []),
      ...(object ? [object] : []),
    ]
    return fc.tuple(fc.constant(name), fc.oneof(...choices))
  }
  const object = fc
    .tuple(
      fc.subarray(Object.keys(fields)).chain((names) => fc.tuple(...names.map(field))),
      fc.option(fc.tuple(fc.constantFrom(...UNKNOWN_FIELDS), jsonText), { freq: 8 }),
    )
    .map(([known, extra]) => jsonObject(extra ? [...known, extra] : known))
  return fc.oneof({ weight: 9, arbitrary: object }, { weight: 1, arbitrary: jsonText })
}

/** A path segment for any string (a lone surrogate, which no URL can carry, becomes U+FFFD). */
const pathSegment = (s: string) => encodeURIComponent(s.replace(/\p{Cs}/gu, '\uFFFD'))

interface Outcome {
  res: LightMyRequestResponse
  /** The fields a 400 may name: the route's parameters and the body as a whole. */
  fields: readonly string[]
}

/** Never a 5xx; a 400 is `{ error, message, details }` whose every detail names one of the route's fields. */
function expectSafe({ res, fields }: Outcome): void {
  expect(res.statusCode, res.body).toBeLessThan(500)
  if (res.statusCode !== 400) return
  const body = res.json()
  expect(body.error, res.body).toEqual(expect.any(String))
  expect(body.message, res.body).toEqual(expect.any(String))
  expect(body.details.length, res.body).toBeGreaterThan(0)
  for (const d of body.details as { field: string; reason: string }[]) {
    const named = ['body', ...fields].some((f) => d.field === f || d.field.startsWith(`${f}.`))
    expect(named, `${d.field} is not a field of the route: ${res.body}`).toBe(true)
    expect(d.reason.length).toBeGreaterThan(0)
  }
}

/** The keys of a body's top-level objects (an unknown field is named as sent; Ajv unwraps a one-item array). */
function keysOf(body: unknown): string[] {
  if (Array.isArray(body)) return body.flatMap(keysOf)
  return typeof body === 'object' && body !== null ? Object.keys(body) : []
}

/** Everything a write route could change, as one comparable value. */
async function snapshot(): Promise<string> {
  const store = h.meterflow.anomalies
  return JSON.stringify([
    (await store.listRuns({ limit: 1000 })).items,
    await store.listCustomers(),
    (await store.listIncidents({ limit: 1000 })).items,
    await store.alerts.activeMutes(0),
    (await store.alerts.list({ limit: 1000 })).items,
    (await h.meterflow.metrics.refresh()).list(),
  ])
}

/** Sends each request, checks it, and that a rejected one (4xx) left every store as it was. */
async function fuzzWrites(
  arbitrary: fc.Arbitrary<{
    method: 'POST' | 'PUT'
    url: string
    payload: string
    fields: readonly string[]
  }>,
  check: (res: LightMyRequestResponse, payload: string) => void = () => {},
): Promise<void> {
  let before = await snapshot()
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ method, url, payload, fields }) => {
      const res = await h.app.inject({
        method,
        url,
        payload,
        headers: { 'content-type': 'application/json' },
      })
      expectSafe({ res, fields: [...fields, ...UNKNOWN_FIELDS, ...keysOf(JSON.parse(payload))] })
      check(res, payload)
      const after = await snapshot()
      if (res.statusCode >= 400) expect(after, `${method} ${url} ${payload} -> ${res.body}`).toBe(before)
      before = after
    }),
    { numRuns: RUNS },
  )
}

const GET_ROUTES: { url: string; params: Record<string, readonly string[]> }[] = [
  {
    url: '/v1/anomalies/check',
    params: {
      customer_id: ['acme'],
      metric: ['api_calls', 'bandwidth'],
      current_start: ['2026-11-24T12:00:00Z'],
      current_end: ['2026-11-25T12:00:00Z'],
      baseline_days: ['7', '30'],
      threshold: ['3'],
      critical_threshold: ['5'],
      mode: ['volume', 'shape', 'combined'],
    },
  },
  {
    url: '/v1/anomalies',
    params: {
      customer_id: ['acme'],
      metric: ['api_calls'],
      severity: ['warning', 'critical'],
      since: ['2026-11-01T00:00:00Z'],
      until: [String(NOW)],
      limit: ['10'],
      cursor: [],
    },
  },
  { url: '/v1/runs', params: { limit: ['10'], cursor: [] } },
  { url: '/v1/incidents', params: { status: ['open'], customer_id: ['acme'], limit: ['10'], cursor: [] } },
  { url: '/v1/alerts', params: { status: ['failed'], channel: ['console'], limit: ['10'], cursor: [] } },
]

describe('query parameters of every GET route', () => {
  for (const route of GET_ROUTES) {
    it(`${route.url}: no 5xx, every 400 names a parameter`, async () => {
      const names = Object.keys(route.params)
      const query = fc.record(
        Object.fromEntries(names.map((name) => [name, queryValue(route.params[name] ?? [])])),
        { requiredKeys: [] },
      )
      const extra = fc.option(fc.tuple(fc.constantFrom('foo', 'LIMIT', 'limit[]'), text), { freq: 8 })
      await fc.assert(
        fc.asyncProperty(query, extra, async (q, more) => {
          const params = new URLSearchParams(q as Record<string, string>)
          if (more) params.append(...more)
          const res = await h.app.inject({ method: 'GET', url: `${route.url}?${params}` })
          expectSafe({ res, fields: [...names, ...(more ? [more[0]] : [])] })
        }),
        { numRuns: RUNS },
      )
    })
  }

  it('refuses the reproduction: baseline_days and threshold of 1e309', async () => {
    for (const param of ['baseline_days=1e309', 'threshold=1e309', 'critical_threshold=Infinity']) {
      const res = await h.app.inject({
        method: 'GET',
        url: `/v1/anomalies/check?customer_id=a&metric=api_calls&${param}`,
      })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().details.map((d: { field: string }) => d.field)).toEqual([param.split('=')[0]])
    }
  })

  it('path parameters: no 5xx, nothing found is a 404', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/customers/', '/v1/incidents/', '/v1/runs/', '/v1/alerts/'),
        fc.oneof(text, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 })),
        async (prefix, id) => {
          const res = await h.app.inject({ method: 'GET', url: `${prefix}${pathSegment(id)}` })
          expectSafe({ res, fields: ['id'] })
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('bodies of the write routes', () => {
  it('refuses a number that Ajv coerces to Infinity, naming the field, and writes nothing', async () => {
    const cases: [method: 'PUT' | 'POST', url: string, payload: string, field: string][] = [
      ['PUT', '/v1/customers/acme', '{"threshold":"1e309"}', 'threshold'],
      ['PUT', '/v1/customers/acme', '{"detector":{"min_volume":"1e309"}}', 'detector.min_volume'],
      ['PUT', '/v1/customers/acme', '{"detector":{"level_shift_days":"1e309"}}', 'detector.level_shift_days'],
      ['POST', '/v1/mutes', '{"customer_id":"acme","minutes":"1e309"}', 'minutes'],
      ['POST', '/v1/runs', '{"slot":1e309}', 'slot'],
    ]
    for (const [method, url, payload, field] of cases) {
      const before = await snapshot()
      const res = await h.app.inject({
        method,
        url,
        payload,
        headers: { 'content-type': 'application/json' },
      })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().details.map((d: { field: string }) => d.field)).toEqual([field])
      expect(await snapshot()).toBe(before)
    }
  })

  it('POST /v1/runs: a slot beyond the current hour is refused, any other bad one too, and nothing is written', async () => {
    const currentHour = floorToHour(NOW)
    const slot = fc.oneof(
      jsonText,
      fc.constantFrom(
        JSON.stringify(new Date(currentHour).toISOString()),
        String(currentHour - 5 * HOUR),
        String(currentHour + HOUR),
        '"2099-01-01T00:00:00Z"',
        '"9999-12-31"',
      ),
    )
    const body = fc.oneof(
      slot.map((s) => jsonObject([['slot', s]])),
      bodyText({ slot: [] }),
    )
    await fuzzWrites(
      body.map((payload) => ({ method: 'POST', url: '/v1/runs', payload, fields: ['slot'] })),
      (res, payload) => {
        const sent = JSON.parse(payload)
        const object = typeof sent === 'object' && sent !== null && !Array.isArray(sent)
        if (!object || Object.keys(sent).some((k) => k !== 'slot')) return
        const value = sent.slot
        const parsed = typeof value === 'string' || typeof value === 'number' ? parseTimestamp(value) : null
        if (!parsed?.ok) return
        if (floorToHour(parsed.ms) > currentHour) {
          expect(res.statusCode, res.body).toBe(400)
          expect(res.json().details).toEqual([
            { field: 'slot', reason: expect.stringMatching(/current hour/) },
          ])
        } else {
          expect(res.statusCode, res.body).toBe(200)
        }
      },
    )
  })

  it('POST /v1/mutes', async () => {
    const fields = {
      customer_id: ['"acme"'],
      metric: ['"api_calls"'],
      until: [JSON.stringify(new Date(NOW + DAY).toISOString()), String(NOW + 91 * DAY)],
      minutes: ['60', '129600'],
      reason: ['"maintenance"'],
    }
    await fuzzWrites(
      bodyText(fields).map((payload) => ({
        method: 'POST',
        url: '/v1/mutes',
        payload,
        fields: Object.keys(fields),
      })),
      (res) => {
        if (res.statusCode !== 201) return
        const until = Date.parse(res.json().until)
        expect(until).toBeGreaterThan(NOW)
        expect(until - NOW).toBeLessThanOrEqual(BOUNDS.muteMinutes.max * 60_000)
      },
    )
  })

  it('PUT /v1/customers/:id', async () => {
    const detector = bodyText({
      statistic: ['"robust"'],
      baseline: ['"weekday"'],
      windows: ['["day","hour"]'],
      level_shift_days: ['3'],
      min_volume: ['100'],
      persist_runs: ['2'],
      persist_window: ['3'],
    })
    const fields = {
      status: ['"active"', '"disabled"'],
      threshold: ['4', 'null'],
      critical_threshold: ['6', 'null'],
      metrics: ['["api_calls"]', 'null'],
      detector: ['null'],
    }
    const body = bodyText(fields, { detector })
    const id = fc.oneof(fc.constant('acme'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }))
    await fuzzWrites(
      fc.tuple(body, id).map(([payload, customer]) => ({
        method: 'PUT',
        url: `/v1/customers/${pathSegment(customer)}`,
        payload,
        fields: ['id', ...Object.keys(fields)],
      })),
      (res) => {
        if (res.statusCode !== 200) return
        const { threshold, critical_threshold } = res.json()
        for (const t of [threshold, critical_threshold]) {
          if (t !== null) expect(t > 0 && t <= BOUNDS.threshold.max).toBe(true)
        }
      },
    )
  })

  it('POST /v1/incidents/:id/feedback and /ack', async () => {
    const feedback = bodyText({
      label: ['"false_positive"', '"planned"'],
      note: ['"load test"'],
      by: ['"ops"'],
    })
    const ack = bodyText({ by: ['"ops"'] })
    const id = fc.oneof(
      fc.constant(INCIDENT),
      text.filter((s) => s.length > 0),
    )
    await fuzzWrites(
      fc.tuple(fc.boolean(), feedback, ack, id).map(([isFeedback, f, a, incidentId]) => ({
        method: 'POST',
        url: `/v1/incidents/${pathSegment(incidentId)}/${isFeedback ? 'feedback' : 'ack'}`,
        payload: isFeedback ? f : a,
        fields: ['id', 'label', 'note', 'by'],
      })),
    )
  })

  it('POST /v1/alerts/digest and POST /v1/metrics', async () => {
    const digest = bodyText({ to: [JSON.stringify(new Date(NOW - DAY).toISOString())] })
    const metric = bodyText({
      name: ['"fuzz_metric"', '"api_calls"'],
      aggregation: ['"sum"', '"max"'],
      description: ['"fuzzed"'],
      unit: ['"requests"'],
    })
    await fuzzWrites(
      fc.oneof(
        digest.map((payload) => ({
          method: 'POST' as const,
          url: '/v1/alerts/digest',
          payload,
          fields: ['to'],
        })),
        metric.map((payload) => ({
          method: 'POST' as const,
          url: '/v1/metrics',
          payload,
          fields: ['name', 'aggregation', 'description', 'unit'],
        })),
      ),
    )
  })
})
