import nodemailer, { type NodemailerError, type SMTPTransportOptions, type Transporter } from 'nodemailer'
import { type Config, ConfigError } from '../../../config.js'
import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, DeliveryContext, DeliveryResult } from '../../../ports.js'
import type { ChannelRegistration } from '../registry.js'
import { emailMessage, messageId } from './format.js'

export interface EmailChannelOptions {
  /** smtp://user:pass@host:port or smtps://... */
  smtpUrl: string
  from: string
  to: readonly string[]
  timeoutMs: number
}

/** host:port of the SMTP URL: error messages name the server, never the credentials in the URL. */
function serverName(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl)
    return url.host || smtpUrl
  } catch {
    return '(invalid SMTP URL)'
  }
}

/** An SMTP reply is permanent when it is 5xx, except 503 (bad command sequence: a new session may work). */
function isPermanent(err: NodemailerError): boolean | undefined {
  if (err.permanent !== undefined) return err.permanent
  if (err.responseCode === undefined) return undefined
  return err.responseCode >= 500 && err.responseCode !== 503
}

/**
 * Maps a failed sendMail to a delivery result by the SMTP reply (with every recipient refused, nodemailer reports
 * a temporary refusal over a permanent one, so a retry happens when it can help). Errors without a reply are
 * connection, TLS or timeout problems (retry), except configuration and address errors, which would recur.
 */
export function classifySmtpError(err: unknown, server: string): DeliveryResult {
  const e = (err instanceof Error ? err : new Error(String(err))) as NodemailerError
  const reply = e.response ?? ''
  const detail = [e.code, e.originalCode, e.command && `after ${e.command}`].filter(Boolean).join(' ')
  const error = `SMTP delivery via ${server} failed: ${e.message}${detail ? ` (${detail})` : ''}${
    reply && !e.message.includes(reply) ? `: ${reply}` : ''
  }`
  const permanent = isPermanent(e) ?? (e.code === 'ECONFIG' || e.code === 'EENVELOPE')
  return permanent ? { status: 'rejected', error } : { status: 'retry', error }
}

/** One mail per alert to the configured recipients over SMTP; a new connection per mail (alerts are rare). */
export class EmailChannel implements AlertChannel {
  readonly name = 'email'
  private readonly transport: Transporter
  private readonly server: string

  constructor(private readonly options: EmailChannelOptions) {
    const transportOptions: SMTPTransportOptions = {
      url: options.smtpUrl,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
    }
    this.transport = nodemailer.createTransport(transportOptions)
    this.server = serverName(options.smtpUrl)
  }

  async send(alert: Alert, context: DeliveryContext): Promise<DeliveryResult> {
    try {
      const message = emailMessage(alert)
      const info = await this.transport.sendMail({
        from: this.options.from,
        to: [...this.options.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: messageId(context.deliveryId, this.options.from),
        headers: { 'X-MeterFlow-Alert-Id': alert.id, 'X-MeterFlow-Alert-Kind': alert.kind },
      })
      // Refused for some recipients only: a retry would mail the others twice, so it counts as delivered.
      if (info.accepted !== undefined && info.accepted.length === 0) {
        return { status: 'rejected', error: `SMTP server ${this.server} accepted no recipient` }
      }
      return { status: 'delivered' }
    } catch (err) {
      return classifySmtpError(err, this.server)
    }
  }

  async close(): Promise<void> {
    this.transport.close()
  }
}

export const emailChannel: ChannelRegistration = {
  // People's inboxes: critical incidents as they open or escalate (a resolve can wait for the digest).
  defaultRoute: {
    severities: ['critical'],
    transitions: ['opened', 'escalated'],
    ops: true,
    digest: true,
  },
  create(config: Config, context) {
    const email = config.alerts.email
    if (email.smtpUrl === undefined) return null
    // Half a configuration would silently drop every mail: refuse to start instead.
    if (email.to === undefined) {
      throw new ConfigError('Invalid alert configuration', [
        'METERFLOW_SMTP_URL is set but METERFLOW_ALERT_EMAIL_TO is not',
      ])
    }
    return new EmailChannel({
      smtpUrl: email.smtpUrl,
      from: email.from,
      to: email.to,
      timeoutMs: context.timeoutMs,
    })
  },
}
