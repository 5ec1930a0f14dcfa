import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { z } from 'zod'
import { localEndpointCredentials } from '../../aws-credentials.js'
import { MeterFlowError } from '../../errors.js'

/**
 * The ClickHouse secret's JSON: every field optional, each present one replacing the config's; other keys (a
 * rotation template's `host`, `port`, ...) are ignored.
 */
const clickhouseSecretSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    username: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
    password: z.string({ error: 'must be a string' }).optional(),
  })
  .refine((s) => s.url !== undefined || s.username !== undefined || s.password !== undefined, {
    message: 'needs at least one of url, username, password',
  })

export type ClickHouseSecret = z.infer<typeof clickhouseSecretSchema>

/**
 * The secret could not be read or does not hold `{url, username, password}`. The message names the ARN and what
 * is wrong, never the secret's content.
 */
export class SecretError extends MeterFlowError {
  readonly code = 'secret_unusable'
  readonly httpStatus = 500
}

export interface SecretsManagerOptions {
  /** A local Secrets Manager-compatible endpoint; unset: AWS. */
  endpoint?: string
  /** config.awsCredentialEnv: with none of them set, a local endpoint gets dummy credentials. */
  env?: Readonly<Record<string, string>>
  /** Default: the ARN's own region (a secret lives in one region). */
  region?: string
  /** Per attempt (default 5 s): a cold start must not hang on a black-holed endpoint. */
  timeoutMs?: number
}

const ARN = /^arn:aws[\w-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/

/** Reads and validates the ClickHouse secret (GetSecretValue, SecretString as JSON). */
export async function readClickHouseSecret(
  arn: string,
  options: SecretsManagerOptions = {},
): Promise<ClickHouseSecret> {
  const region = options.region ?? ARN.exec(arn)?.[1]
  if (!region) {
    throw new SecretError(`ClickHouse secret ${arn} is not a Secrets Manager secret ARN`, [
      {
        field: 'clickhouse.secretArn',
        reason: 'must look like arn:aws:secretsmanager:<region>:<account>:secret:<name>',
      },
    ])
  }
  const timeoutMs = options.timeoutMs ?? 5_000
  const client = new SecretsManagerClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...localEndpointCredentials(options.endpoint, options.env),
  })
  let text: string | undefined
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString
  } catch (err) {
    // The SDK's messages name the secret and the reason (AccessDeniedException, ResourceNotFoundException).
    const name = err instanceof Error ? err.name : 'Error'
    const detail = err instanceof Error ? err.message : String(err)
    throw new SecretError(`could not read ClickHouse secret ${arn}: ${name}: ${detail}`, [], { cause: err })
  } finally {
    client.destroy()
  }
  return parseClickHouseSecret(arn, text)
}

/** Validates a SecretString; errors say which field is wrong and why, never its value. */
export function parseClickHouseSecret(arn: string, text: string | undefined): ClickHouseSecret {
  const bad = (field: string, reason: string) =>
    new SecretError(`ClickHouse secret ${arn} is unusable: ${field}: ${reason}`, [{ field, reason }])
  if (text === undefined) throw bad('SecretString', 'missing (a binary secret is not supported)')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the text: it must not reach a log.
    throw bad('SecretString', 'is not JSON (expected {"url", "username", "password"})')
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw bad('SecretString', 'must be a JSON object {"url", "username", "password"}')
  }
  const result = clickhouseSecretSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw bad(issue?.path.join('.') || 'SecretString', issue?.message ?? 'invalid')
  }
  return result.data
}
