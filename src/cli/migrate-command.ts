import type { Command } from 'commander'
import { createClickHouseClient } from '../adapters/clickhouse/client.js'
import { embeddedEnginePath } from '../adapters/clickhouse/data-dir-lock.js'
import { LATEST_SCHEMA_VERSION, migrate, verifySchema } from '../adapters/clickhouse/migrations.js'
import { withClickHouseSecret } from '../adapters/secrets-manager/index.js'
import type { Config } from '../config.js'

/**
 * `meterflow migrate`: brings the ClickHouse schema up to this version's. The server and the other commands
 * migrate when they open the store; the Lambda only checks the version, so a deploy runs this first.
 */
export function registerMigrateCommand(program: Command, baseConfig: Config): void {
  program
    .command('migrate')
    .description(
      'apply pending ClickHouse schema migrations (METERFLOW_CLICKHOUSE_URL / _SECRET_ARN, or the embedded store) and print each one; run it before deploying the Lambda',
    )
    .action(async () => {
      const config = await withClickHouseSecret(baseConfig)
      const { url, database } = config.clickhouse
      // Origin only: a URL may carry credentials.
      const where = url ? new URL(url).origin : `the embedded engine at ${embeddedEnginePath(config)}`
      console.log(`migrating database ${database} on ${where} to schema version ${LATEST_SCHEMA_VERSION}`)
      const client = await createClickHouseClient(config)
      try {
        const applied = await migrate(client, database, undefined, (step) => {
          const label = `[${step.position}/${step.of}] migration ${step.migration.version}: ${step.migration.name}`
          if (step.phase === 'start') console.log(`${label} ...`)
          else console.log(`${label}: applied in ${step.durationMs} ms`)
        })
        // Also refuses a database migrated by newer code than this (its versions are unknown here).
        await verifySchema(client, database)
        console.log(
          applied.length === 0
            ? `schema is up to date (version ${LATEST_SCHEMA_VERSION}); nothing to apply`
            : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'} (${applied.join(', ')}); schema is at version ${LATEST_SCHEMA_VERSION}`,
        )
      } finally {
        await client.close()
      }
    })
}
