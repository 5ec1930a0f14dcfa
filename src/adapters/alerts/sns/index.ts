import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { localEndpointCredentials } from '../../../aws-credentials.js'
import type { Config } from '../../../config.js'
import type { Alert } from '../../../domain/alert.js'
import type { AlertChannel, DeliveryContext, DeliveryResult } from '../../../ports.js'
import type { ChannelRegistration } from '../registry.js'
import { classifySnsError } from './errors.js'
import { snsPublishInput } from './format.js'

export interface SnsClientOptions {
  region: string
  /** A local SNS-compatible endpoint; unset: AWS. */
  endpoint?: string
  /** config.awsCredentialEnv: with none of them set, a local endpoint gets dummy credentials. */
  env: Readonly<Record<string, string | undefined>>
}

/**
 * One attempt per send: the alert outbox already retries with backoff and dead-letters, so SDK retries would
 * only multiply the attempts and stretch a send past timeoutMs (enforced per send, see SnsChannel).
 */
export function createSnsClient(options: SnsClientOptions): SNSClient {
  return new SNSClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...localEndpointCredentials(options.endpoint, options.env),
  })
}

/** Publishes each alert to one SNS topic (the seed's ALERT_TOPIC_ARN): subject, JSON message, filter attributes. */
export class SnsChannel implements AlertChannel {
  readonly name = 'sns'

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly timeoutMs: number,
  ) {}

  async send(alert: Alert, context: DeliveryContext): Promise<DeliveryResult> {
    // One deadline for the whole request (credentials, connect, response) rather than per socket phase.
    const abortSignal = AbortSignal.timeout(this.timeoutMs)
    try {
      const input = snsPublishInput(alert, this.topicArn, context.deliveryId)
      await this.client.send(new PublishCommand(input), { abortSignal })
      return { status: 'delivered' }
    } catch (err) {
      if (abortSignal.aborted) {
        return {
          status: 'retry',
          error: `SNS Publish to ${this.topicArn} timed out after ${this.timeoutMs} ms`,
        }
      }
      return classifySnsError(err, this.topicArn)
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}

export const snsChannel: ChannelRegistration = {
  // The seed published critical anomalies to SNS; ops alerts go there too, the digest is for email.
  defaultRoute: {
    severities: ['critical'],
    transitions: ['opened', 'escalated', 'resolved'],
    ops: true,
    digest: false,
  },
  create(config: Config, context) {
    const sns = config.alerts.sns
    if (sns.topicArn === undefined) return null
    const endpoint = sns.endpoint ?? config.anomalyStore.dynamodb.endpoint
    const client = createSnsClient({
      region: sns.region ?? config.anomalyStore.dynamodb.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      env: config.awsCredentialEnv,
    })
    return new SnsChannel(client, sns.topicArn, context.timeoutMs)
  },
}
