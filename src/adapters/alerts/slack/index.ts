import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, Clock, DeliveryResult } from '../../../ports.js'
import { postJson } from '../http.js'
import type { ChannelRegistration } from '../registry.js'
import { slackMessage } from './format.js'

/** Posts Block Kit messages to a Slack incoming webhook (which answers 200 "ok", or 4xx with an error code). */
export class SlackChannel implements AlertChannel {
  readonly name = 'slack'
  constructor(
    private readonly webhookUrl: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  send(alert: Alert): Promise<DeliveryResult> {
    return postJson({
      service: 'slack',
      url: this.webhookUrl,
      body: JSON.stringify(slackMessage(alert)),
      timeoutMs: this.timeoutMs,
      nowMs: this.clock.now(),
    })
  }
}

export const slackChannel: ChannelRegistration = {
  defaultRoute: {
    severities: ['warning', 'critical'],
    transitions: ['opened', 'escalated', 'resolved'],
    ops: true,
    digest: false,
  },
  create: (config, context) => {
    const url = config.alerts.slack.webhookUrl
    return url ? new SlackChannel(url, context.timeoutMs, context.clock) : null
  },
}
