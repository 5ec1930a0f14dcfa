import type { Command } from 'commander'
import { createDynamoDbClient } from '../adapters/dynamodb/client.js'
import { createAnomalyTable } from '../adapters/dynamodb/table.js'
import type { Config } from '../config.js'

/** `meterflow dynamodb ...`: administration of the production anomaly store. */
export function registerDynamoDbCommands(program: Command, config: Config): void {
  const defaults = config.anomalyStore.dynamodb
  const dynamodb = program.command('dynamodb').description('the DynamoDB anomaly store (production)')
  dynamodb
    .command('create-table')
    .description(
      "create the anomaly table (the seed's schema: pk/sk + GSI metric-severity-index, pay per request) if it does not exist, wait until it is active, and enable TTL on `ttl`",
    )
    .option('--table <name>', 'table name (METERFLOW_DYNAMODB_TABLE)', defaults.table)
    .option('--region <region>', 'AWS region (AWS_REGION)', defaults.region)
    .option(
      '--endpoint <url>',
      'a local DynamoDB-compatible endpoint, e.g. dynalite or DynamoDB Local (METERFLOW_AWS_ENDPOINT)',
      defaults.endpoint,
    )
    .action(async (o: { table: string; region: string; endpoint?: string }) => {
      const client = createDynamoDbClient({
        region: o.region,
        env: config.awsCredentialEnv,
        ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      })
      const where = o.endpoint ? `at ${o.endpoint}` : `in ${o.region}`
      try {
        const outcome = await createAnomalyTable(client, o.table, (warning) =>
          console.warn(`meterflow: warning: ${warning}`),
        )
        console.log(
          outcome === 'created'
            ? `created table ${o.table} ${where}; it is active`
            : `table ${o.table} already exists ${where}; it is active and has the expected keys`,
        )
      } finally {
        client.destroy()
      }
    })
}
