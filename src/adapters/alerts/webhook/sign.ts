import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * X-MeterFlow-Signature: "v1=" + hex HMAC-SHA256 over "{X-MeterFlow-Timestamp}.{raw body}". The timestamp is
 * inside the MAC so a captured request cannot be replayed later with a fresh timestamp.
 */
export function signWebhook(
  secret: string,
  timestampSeconds: number | string,
  body: string | Uint8Array,
): string {
  return `v1=${hmac(secret, String(timestampSeconds), body).toString('hex')}`
}

function hmac(secret: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest()
}

/** What node:http gives for a header. */
type HeaderValue = string | readonly string[] | number | null | undefined

export interface VerifyWebhookInput {
  secret: string
  /** The X-MeterFlow-Timestamp header (unix seconds). */
  timestamp: HeaderValue
  /** The X-MeterFlow-Signature header; several comma-separated v1= entries are accepted (key rotation). */
  signature: HeaderValue
  /** The raw request body, exactly as received: re-serialised JSON will not match. */
  body: string | Uint8Array
  nowMs?: number
  /** How far the timestamp may be from now, either way. */
  toleranceSeconds?: number
}

export type VerifyWebhookResult =
  | { ok: true }
  | {
      ok: false
      reason: 'missing_signature' | 'malformed_timestamp' | 'signature_mismatch' | 'stale_timestamp'
    }

const headerText = (value: HeaderValue) =>
  value === null || value === undefined ? '' : typeof value === 'object' ? value.join(',') : String(value)

/** The receiver's side: whether a request really came from this MeterFlow, recently. */
export function verifyWebhookSignature(input: VerifyWebhookInput): VerifyWebhookResult {
  const { secret, body, nowMs = Date.now(), toleranceSeconds = 300 } = input
  const timestamp = headerText(input.timestamp).trim()
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed_timestamp' }
  const candidates = headerText(input.signature)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3))
  if (candidates.length === 0) return { ok: false, reason: 'missing_signature' }
  const expected = hmac(secret, timestamp, body)
  // Buffer.from(hex) silently drops bad digits, so only well-formed digests are compared (in constant time).
  const matches = candidates.some(
    (hex) => /^[0-9a-f]{64}$/i.test(hex) && timingSafeEqual(expected, Buffer.from(hex, 'hex')),
  )
  if (!matches) return { ok: false, reason: 'signature_mismatch' }
  // Checked after the MAC: "stale" then means a genuine request arriving late or replayed.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds)
    return { ok: false, reason: 'stale_timestamp' }
  return { ok: true }
}
