import { mkdirSync } from 'node:fs'
import { type ClickHouseClient, createClient } from '@clickhouse/client'
import type { Config } from '../../config.js'
import { DataDirLockedError, StoreError } from '../../errors.js'
import { withSessionSettings } from './chdb-session.js'
import { embeddedEnginePath } from './data-dir-lock.js'

/**
 * Every setting any MeterFlow query sets, at its ClickHouse default. chDB's connection applies a query's
 * settings to its session and keeps them for later queries: without this reset an insert that sets no
 * token inherits the previous insert's `insert_deduplication_token` and is silently dropped as a duplicate.
 * The client merges these into every request; a request's own settings still win.
 */
export const SESSION_SETTING_DEFAULTS = {
  insert_deduplication_token: '',
  deduplicate_blocks_in_dependent_materialized_views: 0,
  max_partitions_per_insert_block: '100',
  max_bytes_before_external_group_by: '0',
  optimize_aggregation_in_order: 0,
} as const

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

/**
 * One client for both deployments: the embedded engine (chDB, in-process, under `dataDir/clickhouse`)
 * or a ClickHouse server/Cloud when a URL is configured. The SQL above this is identical.
 * chDB is imported only on the embedded path: the Lambda bundle leaves it out (~550 MB, native), so the URL path
 * must never reach it.
 */
export async function createClickHouseClient(config: Config): Promise<ClickHouseClient> {
  const { url, username, password } = config.clickhouse
  if (url) {
    return createClient({
      url,
      username,
      password,
      request_timeout: 60_000,
      clickhouse_settings: SESSION_SETTING_DEFAULTS,
    })
  }
  const path = embeddedEnginePath(config)
  mkdirSync(path, { recursive: true })
  try {
    const { createChdbConnection } = await import('chdb/connection')
    // chdb types its Connection against its own copy of @clickhouse/client-common; the runtime shape is the same.
    const connection = withSessionSettings(createChdbConnection({ path }) as unknown as ClientConnection)
    return createClient({ connection, clickhouse_settings: SESSION_SETTING_DEFAULTS })
  } catch (err) {
    const text = describe(err)
    if (/another server instance|cannot lock file|already running/i.test(text)) {
      throw new DataDirLockedError(
        `the data directory ${path} is in use by another MeterFlow process (the embedded engine allows one process per directory); stop it, use another METERFLOW_DATA_DIR, or pass --url to talk to the running server`,
        [],
        { cause: err },
      )
    }
    throw new StoreError(`could not open the embedded ClickHouse engine at ${path}: ${text}`, [], {
      cause: err,
    })
  }
}

function describe(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  while (current instanceof Error && parts.length < 5) {
    parts.push(current.message)
    current = current.cause
  }
  return parts.join(': ')
}
