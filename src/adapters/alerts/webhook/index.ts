import { Webhook } from 'standardwebhooks'
import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, Clock, DeliveryContext, DeliveryResult } from '../../../ports.js'
import { postJson } from '../http.js'
import type { ChannelRegistration } from '../registry.js'
import { webhookPayload } from './format.js'
import { webhookHeaders } from './sign.js'

export { type WebhookHeaders, webhookMessageId } from './sign.js'

/** POSTs every alert as JSON to one URL, signed per Standard Webhooks when a secret is configured. */
export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook'
  private readonly signer: Webhook | null

  /** `secret`: the `whsec_<base64>` form (what the config gives). */
  constructor(
    private readonly url: string,
    secret: string | undefined,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.signer = secret ? new Webhook(secret) : null
  }

  send(alert: Alert, context: DeliveryContext): Promise<DeliveryResult> {
    const body = JSON.stringify(webhookPayload(alert))
    const nowMs = this.clock.now()
    // Signed per attempt with the send time, so a retry hours later still passes the receiver's replay window.
    const headers = webhookHeaders(this.signer, context.deliveryId, nowMs, body)
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
