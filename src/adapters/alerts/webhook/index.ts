import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, Clock, DeliveryResult } from '../../../ports.js'
import { postJson } from '../http.js'
import type { ChannelRegistration } from '../registry.js'
import { webhookPayload } from './format.js'
import { signWebhook } from './sign.js'

export { type VerifyWebhookInput, type VerifyWebhookResult, verifyWebhookSignature } from './sign.js'

/** POSTs every alert as JSON to one URL, HMAC-signed when a secret is configured. */
export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook'
  constructor(
    private readonly url: string,
    private readonly secret: string | undefined,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  send(alert: Alert): Promise<DeliveryResult> {
    const body = JSON.stringify(webhookPayload(alert))
    const nowMs = this.clock.now()
    // Signed per attempt with the send time, so a retry hours later still passes the receiver's replay window.
    const timestamp = Math.floor(nowMs / 1000)
    const headers: Record<string, string> = {
      'X-MeterFlow-Event-Id': alert.id,
      'X-MeterFlow-Timestamp': String(timestamp),
    }
    if (this.secret) headers['X-MeterFlow-Signature'] = signWebhook(this.secret, timestamp, body)
    return postJson({ service: 'webhook', url: this.url, body, headers, timeoutMs: this.timeoutMs, nowMs })
  }
}

export const webhookChannel: ChannelRegistration = {
  defaultRoute: {
    severities: ['warning', 'critical'],
    transitions: ['opened', 'escalated', 'resolved'],
    ops: true,
    digest: false,
  },
  create: (config, context) => {
    const { url, secret } = config.alerts.webhook
    return url ? new WebhookChannel(url, secret, context.timeoutMs, context.clock) : null
  },
}
