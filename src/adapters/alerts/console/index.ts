import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, DeliveryResult } from '../../../ports.js'
import type { ChannelRegistration } from '../registry.js'

/** One JSON line per alert on standard output: the embedded default, so a laptop install shows what it would send. */
export class ConsoleChannel implements AlertChannel {
  readonly name = 'console'
  constructor(private readonly write: (line: string) => void) {}

  async send(alert: Alert): Promise<DeliveryResult> {
    this.write(
      JSON.stringify({ alert: alert.kind, id: alert.id, severity: alert.severity, title: alert.title }),
    )
    return { status: 'delivered' }
  }
}

export const consoleChannel: ChannelRegistration = {
  defaultRoute: {
    severities: ['warning', 'critical'],
    transitions: ['opened', 'escalated', 'resolved'],
    ops: true,
    digest: false,
  },
  create: (config, context) => (config.alerts.console.enabled ? new ConsoleChannel(context.write) : null),
}
