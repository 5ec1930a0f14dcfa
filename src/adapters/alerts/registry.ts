import type { Config } from '../../config.js'
import type { Route } from '../../domain/routing.js'
import type { AlertChannel, Clock } from '../../ports.js'
import { consoleChannel } from './console/index.js'
import { emailChannel } from './email/index.js'
import { pagerDutyChannel } from './pagerduty/index.js'
import { slackChannel } from './slack/index.js'
import { snsChannel } from './sns/index.js'
import { webhookChannel } from './webhook/index.js'

export interface ChannelContext {
  clock: Clock
  /** Per-request timeout (config alerts.timeoutMs). */
  timeoutMs: number
  /** Where a channel writes what it does not send anywhere else (the console channel). */
  write(line: string): void
}

export interface ChannelRegistration {
  /** Which alerts the channel gets unless config `alerts.routes.<name>` says otherwise. */
  defaultRoute: Route
  /** The channel, or null when its configuration is absent (a channel is on when configured). */
  create(config: Config, context: ChannelContext): AlertChannel | null
}

/** Alert channels by name: a new channel is one folder plus one line here. */
export const alertChannels: Record<string, ChannelRegistration> = {
  console: consoleChannel,
  slack: slackChannel,
  pagerduty: pagerDutyChannel,
  webhook: webhookChannel,
  sns: snsChannel,
  email: emailChannel,
}
