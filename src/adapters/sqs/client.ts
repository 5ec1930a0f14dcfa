import { SQSClient } from '@aws-sdk/client-sqs'

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

// The same list and rule as src/adapters/dynamodb/client.ts (adapters do not import each other).
const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const

/** Credentials for local endpoints, which accept any signature. */
const LOCAL_CREDENTIALS = { accessKeyId: 'meterflow-local', secretAccessKey: 'meterflow-local' }

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
  const env = options.env ?? {}
  const dummy =
    options.endpoint !== undefined && !CREDENTIAL_VARIABLES.some((name) => (env[name] ?? '') !== '')
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
    ...(dummy ? { credentials: LOCAL_CREDENTIALS } : {}),
  })
}
