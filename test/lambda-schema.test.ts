import { spawnSync } from 'node:child_process'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  SchemaVersionError,
  verifySchema,
} from '../src/adapters/clickhouse/migrations.js'
import { openMeterFlow } from '../src/wiring.js'
import { tempDataDir, testConfig } from './helpers.js'

// The Lambda checks the schema version instead of migrating at every cold start; `meterflow migrate` migrates.
const data = tempDataDir()
const config = testConfig(data.dir)
let client: ClickHouseClient

function meterflowCli(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...process.env, METERFLOW_DATA_DIR: data.dir },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const mismatch = async (database: string) => {
  const err = await verifySchema(client, database).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(SchemaVersionError)
  return err as SchemaVersionError
}

beforeAll(() => {
  // Before this process opens the engine: chDB allows one process per data directory.
  const first = meterflowCli(['migrate'])
  expect(first.stderr).toBe('')
  expect(first.code).toBe(0)
  const lines = first.stdout.trim().split('\n')
  expect(lines[0]).toBe(
    `migrating database meterflow on the embedded engine at ${data.dir}/clickhouse to schema version ${LATEST_SCHEMA_VERSION}`,
  )
  // A line before and after each migration, in order, then the summary.
  MIGRATIONS.forEach((m, i) => {
    const label = `[${i + 1}/${MIGRATIONS.length}] migration ${m.version}: ${m.name}`
    expect(lines[1 + 2 * i]).toBe(`${label} ...`)
    expect(lines[2 + 2 * i]).toMatch(
      new RegExp(`^${label.replace(/[[\]().;]/g, '\\$&')}: applied in \\d+ ms$`),
    )
  })
  expect(lines.at(-1)).toBe(
    `applied ${MIGRATIONS.length} migrations (${MIGRATIONS.map((m) => m.version).join(', ')}); schema is at version ${LATEST_SCHEMA_VERSION}`,
  )
  const again = meterflowCli(['migrate'])
  expect(again.code).toBe(0)
  expect(again.stdout).toContain(`schema is up to date (version ${LATEST_SCHEMA_VERSION}); nothing to apply`)
  expect(again.stdout).not.toContain('[1/')
}, 240_000)

afterAll(async () => {
  await client?.close()
  data.remove()
})

describe('schema version check (verify) against chDB', () => {
  beforeAll(async () => {
    client = await createClickHouseClient(config)
  })

  it('passes on a database `meterflow migrate` brought up to date', async () => {
    await expect(verifySchema(client, 'meterflow')).resolves.toBeUndefined()
  })

  it('fails on a database behind this code, naming the missing migrations and `meterflow migrate`', async () => {
    await migrate(client, 'behind', 2)
    const err = await mismatch('behind')
    expect(err.missing).toEqual(MIGRATIONS.filter((m) => m.version > 2).map((m) => m.version))
    expect(err.unknown).toEqual([])
    expect(err.code).toBe('schema_version_mismatch')
    expect(err.message).toContain('ClickHouse database behind')
    expect(err.message).toContain('run `meterflow migrate`')
    expect(err.details).toContainEqual({ field: 'schema_migrations.3', reason: 'not applied' })
  })

  it('fails on a database never migrated (no migration log, or no database at all)', async () => {
    expect((await mismatch('never_created')).missing).toEqual(MIGRATIONS.map((m) => m.version))
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS empty_db' })
    expect((await mismatch('empty_db')).missing).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('fails on a database ahead of this code (migrated by a newer version)', async () => {
    await migrate(client, 'ahead')
    const newer = LATEST_SCHEMA_VERSION + 1
    await client.insert({
      table: 'ahead.schema_migrations',
      values: [{ version: newer, name: 'from the future' }],
      format: 'JSONEachRow',
    })
    const err = await mismatch('ahead')
    expect(err.missing).toEqual([])
    expect(err.unknown).toEqual([newer])
    expect(err.message).toContain(`migrations ${newer} were applied by newer MeterFlow code`)
  })

  it("openMeterFlow({ schema: 'verify' }) opens a current database without migrating and refuses one behind", async () => {
    const current = await openMeterFlow(config, { schema: 'verify', metrics: false })
    await current.close()
    const behind = { ...config, clickhouse: { ...config.clickhouse, database: 'behind' } }
    await expect(openMeterFlow(behind, { schema: 'verify', metrics: false })).rejects.toBeInstanceOf(
      SchemaVersionError,
    )
    // Verify changed nothing: the database is still behind.
    await client.close()
    client = await createClickHouseClient(config)
    expect((await mismatch('behind')).missing.length).toBeGreaterThan(0)
  })
})
