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

// URLs can carry credentials (a Slack webhook URL is one): error strings name the service, never the URL.
export async function postJson(request: PostJson): Promise<DeliveryResult> {
  const { service, timeoutMs } = request
  let res: Response
  try {
    res = await fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'MeterFlow', ...request.headers },
      body: request.body,
      // Followed, a 301/302 turns the POST into a bodiless GET: report the wrong URL instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    return { status: 'retry', error: `${service}: ${describeFailure(err, timeoutMs)}` }
  }
  const snippet = await readSnippet(res)
  if (res.status >= 200 && res.status < 300) return { status: 'delivered' }
  const error = `${service} answered ${res.status}${snippet ? `: ${snippet}` : ''}`
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), request.nowMs)
    return retryAfterMs === undefined ? { status: 'retry', error } : { status: 'retry', error, retryAfterMs }
  }
  if (res.status >= 500 || res.status === 408) return { status: 'retry', error }
  if (res.status >= 300 && res.status < 400) {
    return { status: 'rejected', error: `${error} (redirect to ${res.headers.get('location') ?? 'nowhere'})` }
  }
  return { status: 'rejected', error }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err)
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  // undici says only "fetch failed"; the cause has the useful part (ECONNREFUSED, ENOTFOUND, ...).
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message
}

/** The start of the body, for the error string; also releases the connection. */
async function readSnippet(res: Response): Promise<string> {
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
  return truncate(text.replace(/\s+/g, ' ').trim(), 200)
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
