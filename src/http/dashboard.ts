import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DASHBOARD_PAGES } from '../domain/dashboard-pages.js'
import { UnavailableError } from '../errors.js'

/** Where `npm run build` puts the dashboard (vite, web/): the same path from src/http (tsx) and dist/http. */
export const DASHBOARD_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url))

/**
 * The app's own policy: everything from this origin and nothing else (no CDN, no inline script or style, no
 * framing). The API's responses keep helmet's `default-src 'none'`.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Vite names built assets by content hash, so a URL never changes meaning: cache it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable'
/** Where the server tells the page whether a session is needed (no inline script may carry it). */
const SESSION_META = /<meta name="meterflow-session" content="[^"]*"\s*\/?>/

export interface DashboardOptions {
  root?: string
  authMode: 'on' | 'off'
}

/**
 * Serves the dashboard: hashed assets under /assets/ (cached for good), and index.html for every page path
 * (`/`, `/incidents/:id`, ...; never cached) so that links and reloads open the page. Every route is public: the
 * page itself holds no data, and the API it calls needs a key (the session cookie) as any client does.
 */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const root = options.root ?? DASHBOARD_ROOT
  // Only reply.sendFile: the plugin's own routes could not declare a scope.
  await app.register(fastifyStatic, { root, serve: false })

  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { config: { scope: 'public' }, schema: { hide: true } },
    (request, reply) =>
      reply.header('cache-control', IMMUTABLE).sendFile(`assets/${request.params['*']}`, root, {
        cacheControl: false,
        dotfiles: 'deny',
      }),
  )
  app.get('/favicon.svg', { config: { scope: 'public' }, schema: { hide: true } }, (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=86400')
      .sendFile('favicon.svg', root, { cacheControl: false }),
  )

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    const html = await readFile(join(root, 'index.html'), 'utf8').catch(() => {
      throw new UnavailableError(
        'the dashboard is not built: run `npm run build` (npm start does), then reload',
      )
    })
    const session =
      options.authMode === 'off' ? 'off' : request.principal?.via === 'cookie' ? 'signed-in' : 'signed-out'
    return reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', DASHBOARD_CSP)
      .type('text/html; charset=utf-8')
      .send(html.replace(SESSION_META, `<meta name="meterflow-session" content="${session}">`))
  }
  for (const path of Object.values(DASHBOARD_PAGES)) {
    app.get(path, { config: { scope: 'public' }, schema: { hide: true } }, page)
  }
}
