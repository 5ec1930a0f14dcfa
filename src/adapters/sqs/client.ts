import { SQSClient } from '@aws-sdk/client-sqs'
import { localEndpointCredentials } from '../../aws-credentials.js'

export interface SqsClientOptions {
  region: string
  /** A local SQS-compatible endpoint speaking the JSON protocol; unset: AWS (the endpoint of `region`). */
  endpoint?: string
  /** Attempts per request, first included; the SDK retries throttling, 5xx and network errors with backoff. */
  maxAttempts?: number
  /** Per attempt: the time to wait for a reply (default 15 s) and to connect (default 3 s). */
  requestTimeoutMs?: number
  connectionTimeoutMs?: number
  /**
   * The AWS credential variables present in the environment (config.awsCredentialEnv). Only consulted when an
   * endpoint is set: with none, the local endpoint gets dummy credentials.
   */
  env?: Readonly<Record<string, string | undefined>>
}

/**
 * A send is one short call per 10 tasks; 5 attempts ride out a brief 5xx burst (the SDK waits up to
 * min(1 s x 2^n, 20 s), randomised, before retry n) without holding a coordinator for minutes.
 */
const DEFAULT_MAX_ATTEMPTS = 5

/**
 * The SQS client: standard retry mode (SQS standard queues do not throttle sends at a run's rate, so adaptive
 * client-side rate limiting buys nothing). With an endpoint and no AWS credentials in the environment it signs
 * with dummy credentials; otherwise the SDK's default provider chain applies.
 */
export function createSqsClient(options: SqsClientOptions): SQSClient {
  return new SQSClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    // Per attempt. The SDK sets none, so a black-holed connection would hang the coordinator for good; a
    // timed-out attempt is retried like any network error.
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      throwOnRequestTimeout: true,
    },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...localEndpointCredentials(options.endpoint, options.env),
  })
}
