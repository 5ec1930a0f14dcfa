import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, Clock, DeliveryResult } from '../../../ports.js'
import { postJson } from '../http.js'
import type { ChannelRegistration } from '../registry.js'
import { pagerDutyEvent } from './format.js'

/**
 * Sends PagerDuty Events API v2 events: 202 accepted, 400 invalid event (rejected for good), 429 and 5xx retried.
 * Incident alerts trigger and resolve one PagerDuty incident keyed by the MeterFlow incident id.
 */
export class PagerDutyChannel implements AlertChannel {
  readonly name = 'pagerduty'
  constructor(
    private readonly url: string,
    private readonly routingKey: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  async send(alert: Alert): Promise<DeliveryResult> {
    const event = pagerDutyEvent(alert, this.routingKey)
    if (event === null) return { status: 'rejected', error: 'pagerduty does not take digests' }
    return postJson({
      service: 'pagerduty',
      url: this.url,
      body: JSON.stringify(event),
      timeoutMs: this.timeoutMs,
      nowMs: this.clock.now(),
    })
  }
}

export const pagerDutyChannel: ChannelRegistration = {
  defaultRoute: {
    severities: ['critical'],
    transitions: ['opened', 'escalated', 'resolved'],
    ops: true,
    digest: false,
  },
  create: (config, context) => {
    const { routingKey, url } = config.alerts.pagerduty
    return routingKey ? new PagerDutyChannel(url, routingKey, context.timeoutMs, context.clock) : null
  },
}
