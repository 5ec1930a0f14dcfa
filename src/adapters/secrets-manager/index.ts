import type { Config } from '../../config.js'
import { readClickHouseSecret } from './clickhouse-secret.js'

export { type ClickHouseSecret, readClickHouseSecret, SecretError } from './clickhouse-secret.js'

/**
 * The config with the ClickHouse secret's fields (config.clickhouse.secretArn) in place of url, username and
 * password; the config itself when no secret is configured. Read once per process, before opening MeterFlow.
 * The request goes to METERFLOW_AWS_ENDPOINT when set (local AWS-compatible endpoints).
 */
export async function withClickHouseSecret(config: Config): Promise<Config> {
  const arn = config.clickhouse.secretArn
  if (!arn) return config
  const endpoint = config.anomalyStore.dynamodb.endpoint
  const secret = await readClickHouseSecret(arn, {
    env: config.awsCredentialEnv,
    ...(endpoint === undefined ? {} : { endpoint }),
  })
  return { ...config, clickhouse: { ...config.clickhouse, ...secret } }
}
