import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKeys } from '../app/api-keys.js'
import { isLoopbackHost } from '../auth-config.js'
import { API_KEY_SCOPES, type ApiKeyInfo, allows } from '../domain/api-key.js'
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors.js'

/**
 * What a route requires. A key scope; `authenticated`: any live key; `public`: nobody needs a key (health,
 * the OpenAPI document, signing in).
 */
export const ROUTE_SCOPES = [...API_KEY_SCOPES, 'authenticated', 'public'] as const
export type RouteScope = (typeof ROUTE_SCOPES)[number]

/** Who is calling: the key, and whether it came as a Bearer header or the dashboard's session cookie. */
export interface Principal {
  key: ApiKeyInfo
  via: 'bearer' | 'cookie'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route declares one; a route without it is refused when registered (see installAccessControl). */
    scope?: RouteScope
  }
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    /** `METHOD url` -> the scope it declared, for every registered route. */
    routeScopes: ReadonlyMap<string, RouteScope>
  }
}

/** The dashboard's session cookie: it holds the key itself, HttpOnly so that no script can read it. */
export const SESSION_COOKIE = 'meterflow_session'
const REALM = 'Bearer realm="meterflow"'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
/** Orchestrators probe these every few seconds from one address: a probe must never be throttled. */
const UNTHROTTLED_ROUTES = new Set(['/healthz', '/readyz'])

export interface AccessOptions {
  mode: 'on' | 'off'
  keys: ApiKeys
  rateLimit: { max: number; windowMs: number }
}

/**
 * Installs, before any route is registered: the check that every route declares a scope, and one onRequest hook
 * that in this order refuses (with auth off) a Host that is not loopback, refuses cross-site browser requests,
 * identifies the caller, applies the caller's rate limit (by key, or by address without a valid key; probes
 * exempt), and enforces the route's scope. All of it runs before the body is read, so a refused request costs
 * no parsing.
 */
export async function installAccessControl(app: FastifyInstance, options: AccessOptions): Promise<void> {
  const scopes = new Map<string, RouteScope>()
  app.decorate('routeScopes', scopes)
  app.decorateRequest('principal', null)
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope
    const name = `${[route.method].flat().join(',')} ${route.url}`
    if (!(ROUTE_SCOPES as readonly unknown[]).includes(scope)) {
      // Fail closed at start: a route nobody thought about must not be reachable by everyone.
      throw new Error(
        `route ${name} declares no scope: add config: { scope } (one of ${ROUTE_SCOPES.join(', ')})`,
      )
    }
    for (const method of [route.method].flat()) scopes.set(`${method} ${route.url}`, scope as RouteScope)
  })

  await app.register(rateLimit, {
    global: false,
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.windowMs,
    keyGenerator: (request) => (request.principal ? `key:${request.principal.key.id}` : `ip:${request.ip}`),
  })
  const limit = app.createRateLimit()

  app.addHook('onRequest', async (request, reply) => {
    if (options.mode === 'off') refuseForeignHost(request)
    refuseCrossSite(request)
    // Unknown paths answer 404 (after the rate limit); a route without a scope cannot exist (onRoute above).
    const scope: RouteScope | undefined = request.is404 ? 'public' : request.routeOptions.config.scope
    if (scope === undefined) throw new ForbiddenError('forbidden', 'this route declares no scope')
    const credential = readCredential(request)
    const key = credential?.token === undefined ? null : await options.keys.authenticate(credential.token)
    if (credential && key) request.principal = { key, via: credential.via }

    const outcome = UNTHROTTLED_ROUTES.has(request.routeOptions.url ?? '') ? null : await limit(request)
    if (outcome && !outcome.isAllowed) {
      reply.header('x-ratelimit-limit', outcome.max)
      reply.header('x-ratelimit-remaining', outcome.remaining)
      reply.header('x-ratelimit-reset', outcome.ttlInSeconds)
      if (outcome.isExceeded) {
        reply.header('retry-after', outcome.ttlInSeconds)
        throw new RateLimitedError(
          `rate limit exceeded: at most ${outcome.max} requests per ${Math.round(outcome.timeWindow / 1000)} s; retry in ${outcome.ttlInSeconds} s`,
        )
      }
    }

    if (scope === 'public' || options.mode === 'off') return
    if (!request.principal) refuseUnauthenticated(reply, credential)
    else enforceScope(request, reply, request.principal, scope)
  })
}

function refuseUnauthenticated(reply: FastifyReply, credential: Credential | null): never {
  if (!credential) {
    reply.header('www-authenticate', REALM)
    throw new UnauthorizedError('an API key is required: send Authorization: Bearer <key>', [
      { field: 'authorization', reason: 'missing' },
    ])
  }
  reply.header('www-authenticate', `${REALM}, error="invalid_token"`)
  throw new UnauthorizedError(
    credential.via === 'cookie'
      ? 'the session is invalid or its key was revoked: sign in again'
      : 'the API key is invalid or revoked',
    [{ field: credential.via === 'cookie' ? 'cookie' : 'authorization', reason: 'invalid or revoked key' }],
  )
}

function enforceScope(
  request: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  scope: Exclude<RouteScope, 'public'>,
): void {
  if (scope !== 'authenticated' && !allows(principal.key.scopes, scope)) {
    reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${scope}"`)
    throw new ForbiddenError(
      'insufficient_scope',
      `${request.method} ${request.routeOptions.url} needs a key with scope ${scope}${scope === 'admin' ? '' : ' (or admin)'}; key ${principal.key.id} has ${principal.key.scopes.join(', ')}`,
      [{ field: 'authorization', reason: `scope ${scope} required` }],
    )
  }
  // A cookie rides along on any request the browser makes, so a state change by cookie must prove that the
  // page making it is ours (SameSite=Strict already keeps other sites' requests from carrying it).
  if (principal.via === 'cookie' && !SAFE_METHODS.has(request.method) && !provablySameOrigin(request)) {
    throw new ForbiddenError(
      'cross_site_request',
      'a change made with the session cookie must come from the same origin (Origin or Sec-Fetch-Site)',
      [{ field: 'origin', reason: 'missing or not this origin' }],
    )
  }
}

interface Credential {
  /** Undefined when the Authorization header is not a Bearer token at all. */
  token: string | undefined
  via: 'bearer' | 'cookie'
}

/** The Authorization header if present (it wins), else the session cookie, else null. */
function readCredential(request: FastifyRequest): Credential | null {
  const authorization = request.headers.authorization
  if (authorization !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization)
    return { token: match?.[1], via: 'bearer' }
  }
  const token = readCookie(request.headers.cookie, SESSION_COOKIE)
  return token === undefined ? null : { token, via: 'cookie' }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * DNS rebinding: a page on evil.example whose name the attacker then points at 127.0.0.1 reaches this server
 * as a same-origin request (its Origin matches its Host), so with authentication off the Host header is the
 * only thing that tells it apart: a browser always sends the name the page used. Only loopback names and
 * addresses (with any port) are served. With authentication on nothing here is needed: a rebound page carries
 * no key, and the session cookie belongs to the name it was set for, never to the attacker's.
 */
function refuseForeignHost(request: FastifyRequest): void {
  const host = request.host
  const name = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(host)?.[1]
  if (name !== undefined && isLoopbackHost(name)) return
  throw new ForbiddenError(
    'forbidden',
    `with authentication off only loopback hosts are served (localhost, 127.0.0.0/8, [::1]), not ${JSON.stringify(host.slice(0, 200))}: use http://localhost:<port>, or turn authentication on`,
    [{ field: 'host', reason: 'not a loopback name or address' }],
  )
}

/**
 * CORS stays closed (no Access-Control-* headers), and a browser request another site makes is refused before
 * anything runs, even with authentication off: a page elsewhere must not be able to trigger a run or write
 * usage through a browser on this machine. Top-level navigations (a link to the dashboard) stay allowed.
 * Sec-Fetch-Site decides when the browser sends it (it cannot be set by a page); older browsers are judged by
 * Origin against Host. Clients that are not browsers send neither header and pass.
 */
function refuseCrossSite(request: FastifyRequest): void {
  const navigation =
    (request.method === 'GET' || request.method === 'HEAD') &&
    header(request, 'sec-fetch-mode') === 'navigate'
  if (navigation) return
  const site = header(request, 'sec-fetch-site')
  const origin = header(request, 'origin')
  let issue: { field: string; seen: string } | null = null
  if (site !== undefined) {
    if (site === 'cross-site' || site === 'same-site') issue = { field: 'sec-fetch-site', seen: site }
  } else if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
    issue = { field: 'origin', seen: origin.slice(0, 200) }
  }
  if (issue) {
    throw new ForbiddenError(
      'cross_site_request',
      `cross-site browser requests are refused (${issue.field}: ${issue.seen})`,
      [{ field: issue.field, reason: 'not this origin' }],
    )
  }
}

function provablySameOrigin(request: FastifyRequest): boolean {
  const origin = header(request, 'origin')
  return (
    header(request, 'sec-fetch-site') === 'same-origin' ||
    (origin !== undefined && sameOrigin(origin, request.headers.host))
  )
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === 'null') return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}
