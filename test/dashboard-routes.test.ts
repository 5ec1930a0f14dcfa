import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DASHBOARD_CSP } from '../src/http/dashboard.js'
import { buildServer } from '../src/http/server.js'
import { type Harness, openHarness, tempDataDir } from './helpers.js'

// How the server serves the dashboard, on a stand-in build (the real build is driven in test/dashboard.test.ts).

const NOW = Date.UTC(2026, 10, 25, 12)
const built = tempDataDir('meterflow-web-')
const INDEX = `<!doctype html><html><head><meta name="meterflow-session" content="" /></head><body>app</body></html>`
let h: Harness
let app: FastifyInstance
let unbuilt: FastifyInstance

beforeAll(async () => {
  mkdirSync(join(built.dir, 'assets'))
  writeFileSync(join(built.dir, 'index.html'), INDEX)
  writeFileSync(join(built.dir, 'assets', 'index-abc123.js'), 'console.log(1)')
  writeFileSync(join(built.dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  h = await openHarness(NOW)
  app = await buildServer(h.meterflow, { dashboardRoot: built.dir })
  unbuilt = await buildServer(h.meterflow, { dashboardRoot: join(built.dir, 'missing'), logLevel: 'silent' })
})
afterAll(async () => {
  await app?.close()
  await unbuilt?.close()
  await h?.close()
  built.remove()
})

describe('serving the dashboard', () => {
  it('answers every page path with index.html, its own CSP and no caching', async () => {
    for (const url of [
      '/',
      '/incidents',
      '/incidents/acme%7Capi_calls%7C2026',
      '/anomalies',
      '/customers/acme',
      '/runs/r1',
    ]) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP)
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.headers['x-frame-options']).toBe('DENY')
      // With authentication off the page is told so, and asks for no key.
      expect(res.body).toContain('<meta name="meterflow-session" content="off">')
    }
    expect(DASHBOARD_CSP).toContain("script-src 'self'")
    expect(DASHBOARD_CSP).not.toMatch(/unsafe|https?:|\*/)
  })

  it('caches hashed assets for good, and answers unknown ones and other paths with the API 404', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(asset.headers['content-type']).toMatch(/javascript/)
    for (const url of [
      '/assets/nope.js',
      '/assets/../index.html',
      '/assets/%2e%2e/index.html',
      '/nope',
      '/incidents/a/b',
    ]) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(404)
      expect(res.body, url).not.toContain('app</body>')
    }
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).statusCode).toBe(200)
  })

  it('leaves the API as it was: JSON with the API policy', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/incidents' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
  })

  it('says how to build the dashboard when it is not built', async () => {
    const res = await unbuilt.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({
      error: 'unavailable',
      message: expect.stringContaining('npm run build'),
    })
  })

  it('tells a page served with authentication on whether its session cookie is valid', async () => {
    // The same stores behind a server with authentication on (chDB allows one data directory per process).
    const config = { ...h.meterflow.config, auth: { ...h.meterflow.config.auth, mode: 'on' as const } }
    const server = await buildServer({ ...h.meterflow, config }, { dashboardRoot: built.dir })
    try {
      const created = await h.meterflow.keys.create({ name: 'dash', scopes: ['read'] })
      const out = await server.inject({ method: 'GET', url: '/' })
      expect(out.body).toContain('content="signed-out"')
      const signedIn = await server.inject({
        method: 'GET',
        url: '/customers/acme',
        headers: { cookie: `meterflow_session=${created.token}` },
      })
      expect(signedIn.body).toContain('content="signed-in"')
      const revoked = await server.inject({
        method: 'GET',
        url: '/',
        headers: { cookie: 'meterflow_session=mf_000000000000_nope' },
      })
      expect(revoked.statusCode).toBe(200)
      expect(revoked.body).toContain('content="signed-out"')
    } finally {
      await server.close()
    }
  })
})
