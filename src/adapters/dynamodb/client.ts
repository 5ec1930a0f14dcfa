import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { localEndpointCredentials } from '../../aws-credentials.js'
import { MeterFlowError, StoreError } from '../../errors.js'

export interface DynamoDbClientOptions {
  region: string
  /** A local DynamoDB-compatible endpoint (dynalite, DynamoDB Local); unset: AWS. */
  endpoint?: string
  /** Attempts per request, first included; the SDK retries throttling and 5xx with backoff (default 10). */
  maxAttempts?: number
  /**
   * The AWS credential variables present in the environment (config.awsCredentialEnv). Only consulted when an
   * endpoint is set: with none, the local endpoint gets dummy credentials.
   */
  env?: Readonly<Record<string, string | undefined>>
}

/**
 * Attempts per request by default. The SDK waits a random time up to min(1 s x 2^n, 20 s) before the n-th retry of
 * a throttled request, so 8 attempts let about 1 request in 20 give up inside a 20 s throttling burst (1 of 20 in
 * a run through test/dynamo-throttle-proxy.ts, 3 of 20 at 30 s), failing the whole detection run. With 10 a
 * request gives up after 56 s of throttling on median (1 in 700 within 20 s), still far inside a run's budget.
 */
const DEFAULT_MAX_ATTEMPTS = 10

/**
 * The low-level client: adaptive retry mode (client-side rate limiting on throttling) with up to 10 attempts.
 * With an endpoint and no AWS credentials in the environment it signs with dummy credentials; otherwise the
 * SDK's default provider chain applies (environment, profile, SSO, web identity, container/instance role).
 */
export function createDynamoDbClient(options: DynamoDbClientOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'adaptive',
    // Per attempt. The SDK sets none (and by default only warns when requestTimeout passes), so a black-holed
    // connection would hang a run or a request for good; a timed-out attempt is retried like any network error.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...localEndpointCredentials(options.endpoint, options.env),
  })
}

/**
 * The document client MeterFlow's items go through. Numbers: every stored number is a JS double, written with
 * its shortest round-trip digits (so values above 2^53, e.g. large byte counts, are allowed) and read back as a
 * double; undefined attributes are left out of the item.
 */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
    unmarshallOptions: { wrapNumbers: (value: string) => Number(value) },
  })
}

/** The SDK error's name (e.g. ConditionalCheckFailedException), or '' for anything else. */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : ''
}

/** Wraps whatever the SDK threw in a StoreError naming the operation and the table; MeterFlow errors pass. */
export function wrapError(what: string, table: string, err: unknown): MeterFlowError {
  if (err instanceof MeterFlowError) return err
  const name = errorName(err)
  const detail = err instanceof Error ? err.message : String(err)
  const hint =
    name === 'ResourceNotFoundException' ? ' (does the table exist? `meterflow dynamodb create-table`)' : ''
  return new StoreError(
    `DynamoDB anomaly store failed to ${what} (table ${table}): ${name ? `${name}: ` : ''}${detail}${hint}`,
    [],
    { cause: err },
  )
}
