import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, openAuthHarness, type Tokens, variant } from './auth-fixtures.js'
import type { Harness } from './helpers.js'

let h: Harness
let tokens: Tokens

beforeAll(async () => {
  ;({ h, tokens } = await openAuthHarness())
})
afterAll(async () => {
  await h?.close()
})

describe('manners', () => {
  it('refuses a cross-site POST /v1/runs without a content type, even with auth off', async () => {
    const open = await variant(h.meterflow, { auth: { mode: 'off' } })
    try {
      const runsBefore = (await h.meterflow.anomalies.listRuns({ limit: 100 })).items.length
      for (const headers of [
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
        { 'sec-fetch-site': 'same-site', origin: 'https://sub.localhost' },
      ]) {
        const res = await open.inject({ method: 'POST', url: '/v1/runs', headers })
        expect(res.statusCode).toBe(403)
        expect(res.json()).toMatchObject({ error: 'cross_site_request', message: expect.any(String) })
        expect(res.headers['access-control-allow-origin']).toBeUndefined()
      }
      expect((await h.meterflow.anomalies.listRuns({ limit: 100 })).items.length).toBe(runsBefore)
      // With auth on the key does not make a cross-site request acceptable either.
      const withKey = await h.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { ...bearer(tokens.admin), origin: 'https://evil.example' },
      })
      expect(withKey.statusCode).toBe(403)
      // Same origin, non-browser clients and a top-level navigation pass.
      const host = 'localhost:8080'
      expect(
        (await open.inject({ method: 'GET', url: '/v1/runs', headers: { host, origin: `http://${host}` } }))
          .statusCode,
      ).toBe(200)
      expect((await open.inject({ method: 'GET', url: '/v1/runs' })).statusCode).toBe(200)
      const navigation = await open.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      })
      expect(navigation.statusCode).toBe(200)
    } finally {
      await open.close()
    }
  })

  it('keeps CORS closed: a preflight gets no Access-Control-* header', async () => {
    const res = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: { 'access-control-request-method': 'POST' },
    })
    expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
  })

  it('sends security headers on every reply, errors included', async () => {
    for (const res of [
      await h.app.inject({ method: 'GET', url: '/healthz' }),
      await h.app.inject({ method: 'GET', url: '/v1/runs' }),
      await h.app.inject({ method: 'GET', url: '/v1/runs', headers: bearer(tokens.read) }),
      await h.app.inject({ method: 'GET', url: '/nowhere' }),
    ]) {
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin')
    }
  })

  it('rate-limits per key (429 + Retry-After), a key apart from the others and from anonymous callers', async () => {
    const limited = await variant(h.meterflow, { rateLimit: { max: 3, windowMs: 60_000 } })
    try {
      const get = (headers: Record<string, string>) =>
        limited.inject({ method: 'GET', url: '/v1/runs', headers })
      for (let i = 0; i < 3; i++) expect((await get(bearer(tokens.read))).statusCode).toBe(200)
      const refused = await get(bearer(tokens.read))
      expect(refused.statusCode).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60)
      expect(refused.json()).toMatchObject({
        error: 'rate_limited',
        message: expect.stringMatching(/retry in/),
      })
      expect((await get(bearer(tokens.ingestRead))).statusCode).toBe(200)
      // Anonymous callers (no key, or a wrong one) share their address's budget.
      for (let i = 0; i < 3; i++) expect((await get({})).statusCode).toBe(401)
      expect((await get(bearer('mf_guess'))).statusCode).toBe(429)
    } finally {
      await limited.close()
    }
  })

  it('never throttles the probes, and they spend none of the anonymous budget', async () => {
    const limited = await variant(h.meterflow, { rateLimit: { max: 3, windowMs: 60_000 } })
    try {
      const get = (url: string) => limited.inject({ method: 'GET', url })
      for (let i = 0; i < 10; i++) {
        expect((await get('/healthz')).statusCode).toBe(200)
        expect((await get('/readyz')).statusCode).toBe(200)
      }
      for (let i = 0; i < 3; i++) expect((await get('/v1/runs')).statusCode).toBe(401)
      expect((await get('/v1/runs')).statusCode).toBe(429)
      // The address's budget is spent; the probes still answer.
      const probes = [await get('/healthz'), await get('/readyz')]
      expect(probes.map((res) => res.statusCode)).toEqual([200, 200])
      for (const res of probes) expect(res.headers['retry-after']).toBeUndefined()
    } finally {
      await limited.close()
    }
  })

  it('names the scope a route needs without a redundant "(or admin)" on admin routes', async () => {
    const admin = await h.app.inject({ method: 'POST', url: '/v1/runs', headers: bearer(tokens.read) })
    expect(admin.statusCode).toBe(403)
    expect(admin.json().message).toMatch(/needs a key with scope admin; key /)
    const read = await h.app.inject({ method: 'GET', url: '/v1/runs', headers: bearer(tokens.ingest) })
    expect(read.statusCode).toBe(403)
    expect(read.json().message).toMatch(/needs a key with scope read \(or admin\); key /)
  })

  it('writes no key sent in the query string into the log', async () => {
    const lines: string[] = []
    const logged = await variant(
      h.meterflow,
      {},
      { logLevel: 'info', logStream: { write: (line) => lines.push(line) } },
    )
    try {
      const { token } = await h.meterflow.keys.create({ name: 'in-query', scopes: ['ingest'] })
      const urls = [
        `/v1/events?api_key=${token}`,
        `/v1/events?token=not-a-key-but-secret&x=1`,
        `/v1/events?Access-Token=opaque-secret-value`,
        `/v1/events?password=hunter2hunter2&limit=5`,
        `/v1/events?foo=${token.slice(0, 30)}`,
        `/v1/events/${token}`,
      ]
      for (const url of urls) {
        const res = await logged.inject({ method: 'POST', url, payload: [] })
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400)
      }
      const requests = lines
        .map((line) => JSON.parse(line) as { req?: { url: string } })
        .flatMap((entry) => (entry.req ? [entry.req.url] : []))
      expect(requests).toEqual([
        '/v1/events?api_key=[redacted]',
        '/v1/events?token=[redacted]&x=1',
        '/v1/events?Access-Token=[redacted]',
        '/v1/events?password=[redacted]&limit=5',
        '/v1/events?foo=[redacted]',
        '/v1/events/[redacted]',
      ])
      const text = lines.join('')
      for (const leaked of [token.slice(3, 20), 'not-a-key-but-secret', 'opaque-secret-value', 'hunter2']) {
        expect(text).not.toContain(leaked)
      }
    } finally {
      await logged.close()
    }
  })

  it('writes no key, Authorization header or cookie into the log', async () => {
    const lines: string[] = []
    const logged = await variant(
      h.meterflow,
      {},
      { logLevel: 'trace', logStream: { write: (line) => lines.push(line) } },
    )
    try {
      const { token } = await h.meterflow.keys.create({ name: 'logged', scopes: ['admin'] })
      const secret = token.slice(16)
      await logged.inject({ method: 'GET', url: '/v1/runs', headers: bearer(token) })
      await logged.inject({ method: 'GET', url: '/v1/runs', headers: { authorization: `Bearer ${token}x` } })
      await logged.inject({
        method: 'GET',
        url: '/v1/runs',
        headers: { cookie: `meterflow_session=${token}` },
      })
      await logged.inject({ method: 'POST', url: '/v1/session', payload: { api_key: token } })
      await logged.inject({ method: 'POST', url: '/v1/session', payload: `{"api_key":"${token}` })
      const created = await logged.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: bearer(token),
        payload: { name: 'child', scopes: ['read'] },
      })
      const child = (created.json() as { key: string }).key
      // Anything that logs a request more fully than Fastify does is redacted too.
      logged.log.info(
        {
          req: { headers: { authorization: `Bearer ${token}`, cookie: `meterflow_session=${token}` } },
          body: { api_key: token },
        },
        'a request in full',
      )
      const text = lines.join('')
      expect(lines.length).toBeGreaterThan(10)
      expect(text).toContain('a request in full')
      expect(text).toContain('[redacted]')
      for (const leaked of [secret, child.slice(16)]) expect(text).not.toContain(leaked)
    } finally {
      await logged.close()
    }
  })
})
