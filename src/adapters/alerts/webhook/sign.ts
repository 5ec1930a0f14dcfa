import { createHash } from 'node:crypto'
import type { Webhook } from 'standardwebhooks'

/** The Standard Webhooks request headers (https://www.standardwebhooks.com). */
export type WebhookHeaders = {
  'webhook-id': string
  /** Unix seconds of this attempt. */
  'webhook-timestamp': string
  /** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`; absent when no secret is configured. */
  'webhook-signature'?: string
}

/**
 * The message id of a delivery: the same for every retry of it, so receivers use it as their idempotency key.
 * A digest of the delivery id rather than the id itself: the spec wants message ids free of "." and of
 * user-chosen text (they are part of the signed string), and delivery ids carry ISO times and customer ids.
 */
export function webhookMessageId(deliveryId: string): string {
  return `msg_${createHash('sha256').update(deliveryId).digest('base64url')}`
}

/**
 * Signs with the standardwebhooks library receivers verify with, so the two cannot drift apart. `signer` is
 * `new Webhook(secret)` on the `whsec_` secret (the config normalises plain secrets to that form), or null to
 * send unsigned.
 */
export function webhookHeaders(
  signer: Webhook | null,
  deliveryId: string,
  nowMs: number,
  body: string,
): WebhookHeaders {
  const id = webhookMessageId(deliveryId)
  const headers: WebhookHeaders = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(nowMs / 1000)) }
  if (signer) headers['webhook-signature'] = signer.sign(id, new Date(nowMs), body)
  return headers
}
