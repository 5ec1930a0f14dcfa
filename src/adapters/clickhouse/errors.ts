import { StoreError } from '../../errors.js'

/** Runs one ClickHouse operation; a failure becomes a StoreError saying what was being done. */
export async function withStoreError<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new StoreError(`ClickHouse failed to ${what}: ${(err as Error).message}`, [], { cause: err })
  }
}

/** ClickHouse parses DateTime64 input in this form regardless of server settings. */
export function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}
