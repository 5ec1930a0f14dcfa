import { StoreError } from '../../errors.js'

/** Runs one ClickHouse operation; a failure becomes a StoreError saying what was being done. */
export async function withStoreError<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    // The reply gets the engine's first line, not the SQL it may echo; the log keeps the whole cause.
    const first =
      String((err as Error).message)
        .split('\n')[0]
        ?.slice(0, 300) ?? ''
    throw new StoreError(`ClickHouse failed to ${what}: ${first}`, [], { cause: err })
  }
}

/** ClickHouse parses DateTime64 input in this form regardless of server settings. */
export function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}
