import type { DetectionRun } from '../../domain/run.js'
import { invalidCursor } from './anomaly-query.js'
import { batchWriteAll, type RetryOptions, type WriteRequest } from './batch.js'
import { runItems } from './items.js'
import { checkKeyTime, type Key, PK, RUNS_PK, runListingKey, runLookupKey, SK } from './keys.js'
import { getItem, type QueryInput, type TableContext } from './query.js'

// Runs: a listing item under pk RUNS (newest slot last in key order) and a lookup item by run id.

/** Writes both items of a run; a run saved again under another slot or start time leaves its old listing. */
export async function writeRun(ctx: TableContext, run: DetectionRun, retry: RetryOptions): Promise<void> {
  const { listing, lookup } = runItems(run)
  const previous = await getItem(ctx, runLookupKey(run.runId))
  const writes: WriteRequest[] = [{ PutRequest: { Item: listing } }, { PutRequest: { Item: lookup } }]
  if (previous && typeof previous.listing_sk === 'string' && previous.listing_sk !== listing[SK]) {
    writes.push({ DeleteRequest: { Key: { [PK]: RUNS_PK, [SK]: previous.listing_sk } } })
  }
  await batchWriteAll(ctx.doc, ctx.table, writes, retry)
}

/** Newest slot first, then newest start. */
export function runListInput(table: string): QueryInput {
  return {
    TableName: table,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': PK },
    ExpressionAttributeValues: { ':pk': RUNS_PK },
    ScanIndexForward: false,
  }
}

/** The listing key a decoded run cursor (slot, started_at, run_id) resumes after. */
export function runCursorKey(after: readonly [number, number, string]): Key {
  try {
    checkKeyTime('slot', after[0])
    checkKeyTime('started_at', after[1])
  } catch {
    throw invalidCursor('not a cursor this store issued')
  }
  return runListingKey(...after)
}
