import type { ClickHouseClient } from '@clickhouse/client'
import { withStoreError } from './errors.js'

/** Runs one parameterized SELECT in the MeterFlow database (`{db:Identifier}`); a failure says what was being done. */
export function selectRows<T>(
  client: ClickHouseClient,
  database: string,
  what: string,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  return withStoreError(what, async () => {
    const result = await client.query({
      query,
      query_params: { db: database, ...params },
      format: 'JSONEachRow',
    })
    return result.json<T>()
  })
}
