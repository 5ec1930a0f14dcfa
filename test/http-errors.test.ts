import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './helpers.js'

// Every refusal, including those Fastify and Node's HTTP parser raise before a route runs, is
// `{ error, message, details }`.

const NOW = Date.UTC(2026, 10, 25, 12, 30)
let h: Harness
let port: number

beforeAll(async () => {
  h = await openHarness(NOW)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  port = (h.app.server.address() as { port: number }).port
})
afterAll(async () => {
  await h?.close()
})

/** Sends raw bytes and returns the whole answer (the server closes the connection after an error). */
function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]),
        headers: text.slice(0, split),
        body: text.slice(split + 4),
      })
    })
    socket.end(request)
  })
}

const shape = { error: expect.any(String), message: expect.any(String), details: expect.any(Array) }

describe('error shape', () => {
  it('415 says what the route accepts', async () => {
    const runs = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { 'content-type': 'text/plain' },
      payload: 'go',
    })
    expect(runs.statusCode).toBe(415)
    expect(runs.json()).toEqual({
      error: 'unsupported_media_type',
      message: "content type 'text/plain' is not accepted: send application/json",
      details: [{ field: 'content-type', reason: 'must be application/json' }],
    })
    const events = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b',
    })
    expect(events.statusCode).toBe(415)
    expect(events.json().message).toBe(
      "content type 'text/csv' is not accepted: send application/json or application/x-ndjson",
    )
  })

  it('414 for an over-long path parameter, without echoing the path', async () => {
    const long = 'x'.repeat(1025)
    const res = await h.app.inject({ method: 'GET', url: `/v1/incidents/${long}` })
    expect(res.statusCode).toBe(414)
    expect(res.json()).toEqual({
      error: 'uri_too_long',
      message: 'a path parameter is longer than 1024 characters',
      details: [{ field: 'path', reason: 'a parameter exceeds 1024 characters' }],
    })
    expect(res.body).not.toContain(long)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it('routes the longest valid ids: a 128-character customer id, percent-encoded, inside an incident id', async () => {
    const customer = '|'.repeat(128)
    const id = encodeURIComponent(`${customer}|api_calls|2026-11-25T10:00:00.000Z`)
    expect(id.length).toBeGreaterThan(400)
    const res = await h.app.inject({ method: 'GET', url: `/v1/incidents/${id}` })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: 'not_found' })
  })

  it('400 for a malformed percent-encoding in the path', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/incidents/%E0%A4%A' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ ...shape, error: 'bad_url' })
  })

  it('431 when the headers are too large, as JSON', async () => {
    const res = await raw(`GET /v1/runs HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(res.status).toBe(431)
    expect(res.headers).toMatch(/content-type: application\/json/i)
    expect(JSON.parse(res.body)).toEqual({
      error: 'header_fields_too_large',
      message: expect.stringMatching(/exceed 16384 bytes/),
      details: [{ field: 'headers', reason: expect.any(String) }],
    })
    const longUrl = await raw(`GET /v1/runs?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    expect(longUrl.status).toBe(431)
    expect(JSON.parse(longUrl.body)).toMatchObject({ error: 'header_fields_too_large' })
  })

  it('400 for a request that is not HTTP, as JSON', async () => {
    const res = await raw('HELLO\r\n\r\n')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toEqual({ ...shape, error: 'bad_request' })
  })

  it('with auth off, refuses a request without a Host header (HTTP/1.0)', async () => {
    const res = await raw('GET /v1/runs HTTP/1.0\r\n\r\n')
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ details: [{ field: 'host' }] })
    const local = await raw('GET /v1/runs HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
    expect(local.status).toBe(200)
  })
})
