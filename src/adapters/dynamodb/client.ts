import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { MeterFlowError, StoreError } from '../../errors.js'

export interface DynamoDbClientOptions {
  region: string
  /** A local DynamoDB-compatible endpoint (dynalite, DynamoDB Local); unset: AWS. */
  endpoint?: string
  /** Attempts per request, first included; the SDK retries throttling and 5xx with backoff (default 8). */
  maxAttempts?: number
  /**
   * The AWS credential variables present in the environment (config.awsCredentialEnv). Only consulted when an
   * endpoint is set: with none, the local endpoint gets dummy credentials.
   */
  env?: Readonly<Record<string, string | undefined>>
}

/** The AWS SDK's own credential sources; when none is set a local endpoint gets dummy credentials. */
const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const

/** Credentials for local endpoints, which accept any signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'meterflow-local', secretAccessKey: 'meterflow-local' }

export function hasEnvironmentCredentials(env: Readonly<Record<string, string | undefined>>): boolean {
  return CREDENTIAL_VARIABLES.some((name) => (env[name] ?? '') !== '')
}

/**
 * The low-level client: adaptive retry mode (client-side rate limiting on throttling) with up to 8 attempts.
 * With an endpoint and no AWS credentials in the environment it signs with dummy credentials; otherwise the
 * SDK's default provider chain applies (environment, profile, SSO, web identity, container/instance role).
 */
export function createDynamoDbClient(options: DynamoDbClientOptions): DynamoDBClient {
  const env = options.env ?? {}
  const dummy = options.endpoint !== undefined && !hasEnvironmentCredentials(env)
  return new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? 8,
    retryMode: 'adaptive',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(dummy ? { credentials: LOCAL_CREDENTIALS } : {}),
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
