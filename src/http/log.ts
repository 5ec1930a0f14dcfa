import type { FastifyRequest } from 'fastify'

/**
 * Never logged: the API key in an Authorization header, a session cookie, a sign-in body. Fastify's own request
 * serializer leaves headers and bodies out; this keeps them out of anything that logs a request more fully.
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  'api_key',
  '*.api_key',
]

export const REDACTED = '[redacted]'

/** Query parameters whose value is a credential by its name (compared without case, `-` and `_`). */
const CREDENTIAL_PARAMETERS = new Set(
  [
    'api_key',
    'key',
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'auth',
    'authorization',
    'bearer',
    'password',
    'passwd',
    'pwd',
    'secret',
    'client_secret',
    'signature',
    'sig',
    'session',
    'cookie',
  ].map(normalise),
)

/**
 * An API key (mf_<12 hex>_<secret>) or anything starting like one: a key cut short or mistyped is still most of a
 * secret. Six hex digits keep ids such as a customer `mf_corp` readable.
 */
const KEY_LIKE = /mf_[0-9a-f]{6}/

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '')
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '))
  } catch {
    // A malformed escape: judge it as sent.
    return component
  }
}

function isCredentialName(name: string): boolean {
  const bare = normalise(decode(name))
  return CREDENTIAL_PARAMETERS.has(bare) || /(apikey|token|secret|password)$/.test(bare)
}

/** A path segment, parameter name or value, whole, when it holds something shaped like a key. */
function redactKeyLike(component: string): string {
  return KEY_LIKE.test(decode(component)) ? REDACTED : component
}

/**
 * The request URL as it may be logged: values of credential-named query parameters and anything shaped like an
 * API key (in the path too) become `[redacted]`. A key sent as `?api_key=` is refused (401) but would otherwise
 * sit in the log verbatim.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  const path = (q === -1 ? url : url.slice(0, q)).split('/').map(redactKeyLike).join('/')
  if (q === -1) return path
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      if (eq === -1) return redactKeyLike(pair)
      const name = pair.slice(0, eq)
      return `${redactKeyLike(name)}=${isCredentialName(name) ? REDACTED : redactKeyLike(pair.slice(eq + 1))}`
    })
    .join('&')
  return `${path}?${query}`
}

/**
 * Fastify's request serializer (same fields) with the URL redacted. Pino applies it to whatever is logged under
 * `req`, so it must not assume a Fastify request.
 */
export function serializeRequest(request: Partial<FastifyRequest>) {
  const version = request.headers?.['accept-version']
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactUrl(request.url) : undefined,
    version: Array.isArray(version) ? version[0] : version,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }
}
