/**
 * The AWS SDK's own credential sources in the environment. Config records which are set (the SDK reads their
 * values itself); every AWS client (DynamoDB, SNS, SQS, Secrets Manager) applies the one rule below.
 */
export const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const

/** Credentials for local endpoints (dynalite, a local SNS), which accept any signature. */
const LOCAL_CREDENTIALS = { accessKeyId: 'meterflow-local', secretAccessKey: 'meterflow-local' }

/**
 * The `credentials` option of an AWS SDK client: dummy ones for a local endpoint when the environment names no
 * credential source (so a laptop needs no AWS account), else none (the SDK's default provider chain).
 */
export function localEndpointCredentials(
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): { credentials?: typeof LOCAL_CREDENTIALS } {
  const named = AWS_CREDENTIAL_VARIABLES.some((name) => (env[name] ?? '') !== '')
  return endpoint !== undefined && !named ? { credentials: LOCAL_CREDENTIALS } : {}
}
