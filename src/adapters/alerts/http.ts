import type { DeliveryResult } from '../../ports.js'

/**
 * The one HTTP transport of the webhook-style channels (this one, Slack, PagerDuty): they differ in body and
 * headers, not in how an answer maps onto a DeliveryResult.
 */
export interface PostJson {
  /** Names the receiver in error strings. */
  service: string
  url: string
  body: string
  headers?: Record<string, string>
  timeoutMs: number
  /** For Retry-After given as an HTTP date. */
  nowMs: number
}

/** Cuts to at most `max` UTF-16 units, ending in an ellipsis, never between the halves of a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  let end = max - 1
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end -= 1
  return `${text.slice(0, end)}…`
}

/**
 * Channel URLs carry secrets (a Slack webhook URL is one in its path; a webhook URL may hold a token in its query
 * string): error strings, which end up in `last_error` and the log, name the service and say what happened,
 * never quoting the URL, and whatever the receiver or the HTTP stack says is scrubbed of its parts.
 */
export async function postJson(request: PostJson): Promise<DeliveryResult> {
  const { service, timeoutMs } = request
  let url: URL
  try {
    url = new URL(request.url)
  } catch {
    return { status: 'rejected', error: `${service}: the configured URL is not a valid URL` }
  }
  if (url.username !== '' || url.password !== '') {
    // fetch refuses such a URL (and its error quotes it): this would never work.
    return {
      status: 'rejected',
      error: `${service}: the configured URL contains a user name or password, which cannot be sent: remove them`,
    }
  }
  const scrub = scrubber(url, request.url)
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'MeterFlow', ...request.headers },
      body: request.body,
      // Followed, a 301/302 turns the POST into a bodiless GET: report the wrong URL instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    if (err instanceof Error && err.cause instanceof Error && err.cause.message === 'bad port') {
      // The fetch standard's blocked ports (those of SMTP, IRC, ...): this would never work.
      return {
        status: 'rejected',
        error: `${service}: port ${url.port} is blocked for HTTP by fetch: use another`,
      }
    }
    return { status: 'retry', error: scrub(`${service}: ${describeFailure(err, timeoutMs)}`) }
  }
  const said = await readStart(res)
  if (res.status >= 200 && res.status < 300) return { status: 'delivered' }
  // Scrubbed before it is cut: a secret cut in two would slip through.
  const snippet = truncate(scrub(said), 200)
  const error = `${service} answered ${res.status}${snippet ? `: ${snippet}` : ''}`
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), request.nowMs)
    return retryAfterMs === undefined ? { status: 'retry', error } : { status: 'retry', error, retryAfterMs }
  }
  if (res.status >= 500 || res.status === 408) return { status: 'retry', error }
  if (res.status >= 300 && res.status < 400) {
    return { status: 'rejected', error: `${error} (${describeRedirect(res.headers.get('location'), url)})` }
  }
  return { status: 'rejected', error }
}

/** Where a redirect points, by origin only: its path and query may repeat the channel URL's secrets. */
function describeRedirect(location: string | null, from: URL): string {
  if (location === null) return 'redirect to nowhere'
  try {
    const target = new URL(location, from)
    return target.origin === from.origin ? 'redirect within the same host' : `redirect to ${target.origin}`
  } catch {
    return 'redirect to an invalid location'
  }
}

interface NetworkError extends Error {
  code?: string
  address?: string
  port?: number
  hostname?: string
  errors?: unknown[]
}

/** What went wrong on the way, in words: undici says only "fetch failed"; its cause has the rest. */
export function describeFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return 'the request failed'
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  const cause = (err.cause instanceof Error ? err.cause : err) as NetworkError
  // Node tries every address of a name (IPv6 and IPv4 for localhost): an AggregateError holds one error each.
  const attempts = (Array.isArray(cause.errors) ? cause.errors : [cause]) as NetworkError[]
  const code = cause.code ?? attempts[0]?.code
  const addresses = attempts
    .filter((a) => a.address !== undefined)
    .map((a) => (a.port === undefined ? a.address : `${a.address}:${a.port}`))
    .join(', ')
  const at = addresses ? ` (${addresses})` : ''
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused${at}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${cause.hostname === undefined ? 'the host' : `host ${cause.hostname}`} was not found (${code})`
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `the connection was closed before an answer${at}`
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect in time${at}`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the receiver${at}`
  }
  const detail = cause === err ? err.message : `${err.message}: ${cause.message}`
  return code === undefined || detail.includes(code) ? detail : `${detail} (${code})`
}

/**
 * Removes from a text every part of the channel URL that may be a secret: the URL itself, user name, password,
 * path, query string, and each path segment or query value of 8 characters or more (receivers echo them, and
 * so may error texts). Shorter parts are left alone: no secret is that short, and "/v2" or "hook" are words.
 */
function scrubber(url: URL, raw: string): (text: string) => string {
  const parts = new Set<string>([raw, url.href, url.username, url.password, url.search, url.search.slice(1)])
  if (url.pathname !== '/') parts.add(url.pathname)
  for (const segment of url.pathname.split('/')) parts.add(segment).add(safeDecode(segment))
  for (const value of url.searchParams.values()) parts.add(value).add(encodeURIComponent(value))
  const secrets = [...parts].filter((p) => p.length >= 8).sort((a, b) => b.length - a.length)
  return (text) => secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), text)
}

function safeDecode(component: string): string {
  try {
    return decodeURIComponent(component)
  } catch {
    return component
  }
}

/** The first 1000 or so characters of the body, whitespace collapsed; also releases the connection. */
async function readStart(res: Response): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < 1000) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body cut short or timed out: the status code says enough.
  } finally {
    await reader.cancel().catch(() => {})
  }
  return text.slice(0, 2000).replace(/\s+/g, ' ').trim()
}

/** Retry-After is delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // Date.parse takes "-5" for a year: an HTTP date always names a day or month.
  const at = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
