import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, openAuthHarness, type Tokens, variant } from './auth-fixtures.js'
import type { Harness } from './helpers.js'

// DNS rebinding: a page on evil.example whose name is pointed at 127.0.0.1 talks to a server on loopback as its
// own origin (Origin and Host agree), so with authentication off the Host header is the line of defence.

let h: Harness
let tokens: Tokens
let open: FastifyInstance

beforeAll(async () => {
  ;({ h, tokens } = await openAuthHarness())
  open = await variant(h.meterflow, { auth: { mode: 'off' } })
})
afterAll(async () => {
  await open?.close()
  await h?.close()
})

const counts = async () => ({
  runs: (await h.meterflow.anomalies.listRuns({ limit: 100 })).items.length,
  keys: (await h.meterflow.keys.list()).length,
})

describe('with authentication off, only loopback Host names are served', () => {
  it('refuses a rebound page: POST /v1/runs and POST /v1/keys under a foreign Host change nothing', async () => {
    const before = await counts()
    const rebound = { host: 'evil.example:18091', origin: 'http://evil.example:18091' }
    const attempts = [
      await open.inject({ method: 'POST', url: '/v1/runs', headers: rebound }),
      await open.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: { host: 'evil.example:18091', 'sec-fetch-site': 'same-origin' },
        payload: { name: 'stolen', scopes: ['admin'] },
      }),
      await open.inject({ method: 'GET', url: '/v1/runs', headers: rebound }),
    ]
    for (const res of attempts) {
      expect(res.statusCode).toBe(403)
      expect(res.json()).toEqual({
        error: 'forbidden',
        message: expect.stringMatching(/only loopback hosts.*"evil\.example:18091"/),
        details: [{ field: 'host', reason: 'not a loopback name or address' }],
      })
      expect(res.body).not.toContain('mf_')
    }
    expect(await counts()).toEqual(before)
  })

  it('refuses names that merely look local, and non-loopback addresses', async () => {
    for (const host of [
      'evil.example',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      'localhost.',
      'evil.localhost',
      '0.0.0.0:8080',
      '10.0.0.1',
      '[::2]:8080',
      '[::ffff:10.0.0.1]',
      'localhost:8080@evil.example',
      'localhost:notaport',
    ]) {
      const res = await open.inject({ method: 'GET', url: '/healthz', headers: { host } })
      expect(res.statusCode, host).toBe(403)
      expect(res.json().details, host).toEqual([{ field: 'host', reason: 'not a loopback name or address' }])
    }
  })

  it('serves localhost, 127.0.0.0/8 and [::1] with any port, in any case', async () => {
    for (const host of [
      'localhost',
      'localhost:18091',
      'LocalHost:80',
      '127.0.0.1',
      '127.0.0.1:18091',
      '127.8.9.10:1',
      '[::1]',
      '[::1]:18091',
      '[::ffff:127.0.0.1]:18091',
    ]) {
      const res = await open.inject({ method: 'GET', url: '/v1/runs', headers: { host } })
      expect(res.statusCode, host).toBe(200)
    }
    // Same-origin browser requests from a page on localhost still work.
    const local = await open.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { host: 'localhost:18091', origin: 'http://localhost:18091' },
    })
    expect(local.statusCode).toBe(200)
  })
})

describe('with authentication on', () => {
  it('serves any Host name: a rebound page has no key, and the session cookie never goes to its name', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { ...bearer(tokens.read), host: 'meterflow.internal.example:8080' },
    })
    expect(res.statusCode).toBe(200)
    const anonymous = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { host: 'evil.example:18091', origin: 'http://evil.example:18091' },
    })
    expect(anonymous.statusCode).toBe(401)
  })
})
