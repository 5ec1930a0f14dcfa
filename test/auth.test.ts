import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeys } from '../src/app/api-keys.js'
import { API_KEY_PATTERN } from '../src/domain/api-key.js'
import { DASHBOARD_PAGES } from '../src/domain/dashboard-pages.js'
import { installAccessControl, type RouteScope } from '../src/http/auth.js'
import { bearer, event, expectUnauthorized, NOW, openAuthHarness, type Tokens } from './auth-fixtures.js'
import type { Harness } from './helpers.js'

const DASHBOARD_SHELL: string[] = [...Object.values(DASHBOARD_PAGES), '/assets/*', '/favicon.svg']

let h: Harness
let tokens: Tokens

beforeAll(async () => {
  ;({ h, tokens } = await openAuthHarness())
})
afterAll(async () => {
  await h?.close()
})

/** Every state-changing request the API has, with a valid body. */
const WRITES = [
  { method: 'POST', url: '/v1/events', payload: [event('anon-1')] },
  { method: 'POST', url: '/v1/runs' },
  { method: 'PUT', url: '/v1/customers/auth-co', payload: { status: 'disabled' } },
  { method: 'POST', url: '/v1/mutes', payload: { metric: 'api_calls', minutes: 60 } },
  { method: 'POST', url: '/v1/metrics', payload: { name: 'gpu_seconds', aggregation: 'sum' } },
  { method: 'POST', url: '/v1/alerts/digest' },
  { method: 'POST', url: '/v1/alerts/x/retry' },
  { method: 'DELETE', url: '/v1/mutes/x' },
  { method: 'POST', url: '/v1/incidents/x/ack' },
  { method: 'POST', url: '/v1/incidents/x/feedback', payload: { label: 'planned' } },
  { method: 'POST', url: '/v1/keys', payload: { name: 'mine', scopes: ['admin'] } },
  { method: 'DELETE', url: '/v1/keys/000000000000' },
] as const

describe('authentication is on by default', () => {
  it('answers every anonymous write 401 with WWW-Authenticate and the error shape, and changes nothing', async () => {
    const keysBefore = await h.meterflow.keys.list()
    for (const request of WRITES) {
      const res = await h.app.inject(request)
      expectUnauthorized(res, false)
    }
    expect(await h.meterflow.usage.countEvents()).toBe(0)
    expect((await h.meterflow.anomalies.listRuns({ limit: 10 })).items).toEqual([])
    expect(await h.meterflow.anomalies.listCustomers()).toEqual([])
    expect(await h.meterflow.anomalies.alerts.activeMutes(NOW)).toEqual([])
    expect(h.meterflow.metrics.current().get('gpu_seconds')).toBeUndefined()
    expect(await h.meterflow.keys.list()).toEqual(keysBefore)
  })

  it('answers anonymous reads 401 too; health, readiness and the OpenAPI document stay public', async () => {
    for (const url of [
      '/v1/runs',
      '/v1/anomalies?metric=api_calls',
      '/v1/incidents',
      '/v1/alerts',
      '/v1/keys',
    ]) {
      expectUnauthorized(await h.app.inject({ method: 'GET', url }), false)
    }
    for (const url of ['/healthz', '/readyz', '/openapi.json']) {
      expect((await h.app.inject({ method: 'GET', url })).statusCode).toBe(200)
    }
  })

  it('answers a bogus Authorization header 401 invalid_token', async () => {
    const unknown = `mf_000000000000_${'A'.repeat(43)}`
    const wrongSecret = `${tokens.admin.slice(0, 16)}${tokens.admin[16] === 'A' ? 'B' : 'A'}${tokens.admin.slice(17)}`
    for (const authorization of [
      'Bearer bogus',
      `Bearer ${unknown}`,
      `Bearer ${wrongSecret}`,
      `Basic ${Buffer.from(`admin:${tokens.admin}`).toString('base64')}`,
      tokens.admin,
      'Bearer',
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/runs', headers: { authorization } })
      expectUnauthorized(res, true)
      expect(res.body).not.toContain(tokens.admin)
    }
    expect((await h.meterflow.anomalies.listRuns({ limit: 10 })).items).toEqual([])
  })
})

describe('scopes', () => {
  it('a read key reads but cannot ingest, run, or change anything (403 insufficient_scope)', async () => {
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/runs', headers: bearer(tokens.read) })).statusCode,
    ).toBe(200)
    const ingest = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(tokens.read),
      payload: [event('read-1')],
    })
    expect(ingest.statusCode).toBe(403)
    expect(ingest.headers['www-authenticate']).toBe(
      'Bearer realm="meterflow", error="insufficient_scope", scope="ingest"',
    )
    expect(ingest.json()).toMatchObject({
      error: 'insufficient_scope',
      details: [{ field: 'authorization' }],
    })
    for (const request of WRITES) {
      expect((await h.app.inject({ ...request, headers: bearer(tokens.read) })).statusCode).toBe(403)
    }
    expect(await h.meterflow.usage.countEvents()).toBe(0)
  })

  it('an ingest key ingests but cannot read or run', async () => {
    const ingest = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(tokens.ingest),
      payload: [event('ingest-1')],
    })
    expect(ingest.statusCode).toBe(200)
    expect(ingest.json()).toMatchObject({ stored: 1 })
    for (const url of [
      '/v1/runs',
      '/v1/anomalies/check?customer_id=auth-co&metric=api_calls',
      '/v1/metrics',
    ]) {
      const res = await h.app.inject({ method: 'GET', url, headers: bearer(tokens.ingest) })
      expect(res.statusCode).toBe(403)
      expect(res.headers['www-authenticate']).toContain('scope="read"')
    }
    const run = await h.app.inject({ method: 'POST', url: '/v1/runs', headers: bearer(tokens.ingest) })
    expect(run.statusCode).toBe(403)
    expect((await h.meterflow.anomalies.listRuns({ limit: 10 })).items).toEqual([])
    // Both scopes: both kinds of route.
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/runs', headers: bearer(tokens.ingestRead) })).statusCode,
    ).toBe(200)
  })

  it("scopes an Idempotency-Key to its caller: another key's same Idempotency-Key is another request", async () => {
    const body = [{ customer_id: 'auth-co', metric: 'api_calls', value: 2, timestamp: NOW - 2 * 3_600_000 }]
    const send = (token: string, payload: unknown = body) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...bearer(token), 'idempotency-key': 'shared-key' },
        payload: payload as object,
      })
    expect((await send(tokens.ingest)).json()).toMatchObject({ stored: 1, replayed: false })
    expect((await send(tokens.ingest)).json()).toMatchObject({ stored: 0, replayed: true })
    // Another caller neither replays the first one's request nor learns of it through a 422.
    expect((await send(tokens.ingestRead)).json()).toMatchObject({ stored: 1, replayed: false })
    const other = await send(tokens.admin, [{ ...body[0], value: 3 }])
    expect(other.statusCode).toBe(200)
    expect(other.json()).toMatchObject({ stored: 1, replayed: false })
  })

  it('an admin key may do everything', async () => {
    const run = await h.app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: bearer(tokens.admin),
      payload: { slot: new Date(NOW - 30 * 60_000).toISOString() },
    })
    expect(run.statusCode).toBe(200)
    const ingest = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(tokens.admin),
      payload: [event('admin-1')],
    })
    expect(ingest.json()).toMatchObject({ stored: 1 })
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(tokens.admin) })).statusCode,
    ).toBe(200)
  })

  it('every route declares a scope, and the declared scope follows the policy', async () => {
    const expected = (method: string, url: string): RouteScope => {
      if (['/healthz', '/readyz', '/openapi.json'].includes(url)) return 'public'
      // The dashboard's shell: it holds no data (its API calls need a key like any other).
      if (DASHBOARD_SHELL.includes(url)) return 'public'
      if (url === '/v1/session') return method === 'GET' || method === 'HEAD' ? 'authenticated' : 'public'
      if (url.startsWith('/v1/keys')) return 'admin'
      if (method === 'POST' && url === '/v1/events') return 'ingest'
      return method === 'GET' || method === 'HEAD' ? 'read' : 'admin'
    }
    const routes = [...h.app.routeScopes]
    expect(routes.length).toBeGreaterThan(30)
    for (const [route, scope] of routes) {
      const [method = '', url = ''] = route.split(' ')
      expect(`${route} -> ${scope}`).toBe(`${route} -> ${expected(method, url)}`)
    }
    // An independent list of the routes: the OpenAPI document's (Fastify's :id is OpenAPI's {id}).
    const openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>
    }
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const method of Object.keys(methods)) {
        expect(h.app.routeScopes.has(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)).toBe(
          true,
        )
      }
    }
  })

  it('a route registered without a scope is refused when it is registered (fail closed)', async () => {
    const app: FastifyInstance = Fastify()
    await installAccessControl(app, {
      mode: 'on',
      keys: new ApiKeys(h.meterflow.anomalies.apiKeys, h.clock),
      rateLimit: { max: 10, windowMs: 60_000 },
    })
    expect(() => app.post('/v1/forgotten', async () => ({}))).toThrow(/declares no scope/)
    expect(() => app.get('/v1/typo', { config: { scope: 'reed' as RouteScope } }, async () => ({}))).toThrow(
      /declares no scope/,
    )
    await app.close()
  })
})

describe('keys over HTTP', () => {
  it('creates a key shown once, lists keys without secrets, records last use, and revokes (401 after)', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(tokens.admin),
      payload: { name: 'reporting', scopes: ['read'] },
    })
    expect(created.statusCode).toBe(201)
    expect(created.headers['cache-control']).toBe('no-store')
    const body = created.json() as { id: string; key: string; scopes: string[]; last_used_at: null }
    expect(body).toMatchObject({ name: 'reporting', scopes: ['read'], last_used_at: null, revoked_at: null })
    expect(body.key).toMatch(API_KEY_PATTERN)

    const use = () => h.app.inject({ method: 'GET', url: '/v1/runs', headers: bearer(body.key) })
    expect((await use()).statusCode).toBe(200)
    const list = await h.app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(tokens.admin) })
    expect(list.body).not.toContain(body.key.slice(16))
    expect(list.body).not.toMatch(/"hash"|"key"/)
    const listed = (list.json() as { items: { id: string; last_used_at: string | null }[] }).items
    expect(listed.find((k) => k.id === body.id)?.last_used_at).toBe(new Date(NOW).toISOString())

    const revoke = await h.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${body.id}`,
      headers: bearer(tokens.admin),
    })
    expect(revoke.statusCode).toBe(200)
    expect(revoke.json()).toMatchObject({ id: body.id, revoked_at: new Date(NOW).toISOString() })
    expectUnauthorized(await use(), true)
    const again = await h.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${body.id}`,
      headers: bearer(tokens.admin),
    })
    expect(again.json()).toMatchObject({ revoked_at: new Date(NOW).toISOString() })
    const unknown = await h.app.inject({
      method: 'DELETE',
      url: '/v1/keys/ffffffffffff',
      headers: bearer(tokens.admin),
    })
    expect(unknown.statusCode).toBe(404)
  })

  it('refuses a bad key request naming the field', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(tokens.admin),
      payload: { name: 'x', scopes: ['write'] },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'validation_failed', details: [{ field: 'scopes.0' }] })
  })
})

describe('the dashboard session cookie', () => {
  const signIn = async (token: string) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/session', payload: { api_key: token } })
    expect(res.statusCode).toBe(200)
    const cookie = String(res.headers['set-cookie'])
    return { res, cookie, pair: cookie.split(';')[0] ?? '' }
  }

  it('signs in with a key into an HttpOnly, SameSite=Strict cookie (not Secure over plain http)', async () => {
    const { res, cookie, pair } = await signIn(tokens.read)
    expect(cookie).toMatch(/^meterflow_session=mf_[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/)
    expect(res.json()).toMatchObject({ key: { scopes: ['read'] } })
    expect(res.body).not.toContain(tokens.read)
    const who = await h.app.inject({ method: 'GET', url: '/v1/session', headers: { cookie: pair } })
    expect(who.json()).toMatchObject({ auth: 'on', via: 'cookie', key: { scopes: ['read'] } })
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/runs', headers: { cookie: pair } })).statusCode,
    ).toBe(200)
    // The cookie carries the key's scopes, no more.
    expect(
      (await h.app.inject({ method: 'POST', url: '/v1/events', headers: { cookie: pair }, payload: [] }))
        .statusCode,
    ).toBe(403)
  })

  it('refuses a bad key at sign-in, and a revoked key behind a cookie', async () => {
    const bad = await h.app.inject({ method: 'POST', url: '/v1/session', payload: { api_key: 'mf_nope' } })
    expect(bad.statusCode).toBe(401)
    expect(bad.headers['set-cookie']).toBeUndefined()
    const { key, token } = await h.meterflow.keys.create({ name: 'short-lived', scopes: ['read'] })
    const { pair } = await signIn(token)
    await h.meterflow.keys.revoke(key.id)
    expectUnauthorized(
      await h.app.inject({ method: 'GET', url: '/v1/runs', headers: { cookie: pair } }),
      true,
    )
  })

  it('needs proof of the same origin for a change made by cookie (CSRF)', async () => {
    const { pair } = await signIn(tokens.admin)
    const mute = { metric: 'bandwidth', minutes: 5 }
    const host = 'meterflow.local:8080'
    const noOrigin = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      headers: { cookie: pair, host },
      payload: mute,
    })
    expect(noOrigin.statusCode).toBe(403)
    expect(noOrigin.json()).toMatchObject({ error: 'cross_site_request' })
    expect(await h.meterflow.anomalies.alerts.activeMutes(NOW)).toEqual([])
    const sameOrigin = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      headers: { cookie: pair, host, origin: `http://${host}` },
      payload: mute,
    })
    expect(sameOrigin.statusCode).toBe(201)
    const fetchMetadata = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      headers: { cookie: pair, host, 'sec-fetch-site': 'same-origin' },
      payload: mute,
    })
    expect(fetchMetadata.statusCode).toBe(201)
    // A Bearer key is not sent by browsers on their own: no origin proof needed.
    const byBearer = await h.app.inject({
      method: 'POST',
      url: '/v1/mutes',
      headers: { ...bearer(tokens.admin), host },
      payload: mute,
    })
    expect(byBearer.statusCode).toBe(201)
  })

  it('signs out by expiring the cookie', async () => {
    const res = await h.app.inject({ method: 'DELETE', url: '/v1/session' })
    expect(res.statusCode).toBe(204)
    expect(res.headers['set-cookie']).toBe('meterflow_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0')
  })
})
