import { randomUUID } from 'node:crypto'
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { AlertDelivery } from '../../domain/alert.js'
import { DELIVERY_ATTRIBUTES, itemToDelivery } from './alert-items.js'
import { batchGetAll, batchWriteAll, mapLimit, type RetryOptions } from './batch.js'
import { type Item, Reader } from './items.js'
import {
  ALERTS_DUE_PK,
  deliveryKey,
  dueKey,
  dueSkTime,
  type Key,
  MAX_KEY_TIME,
  PK,
  pad13,
  SK,
} from './keys.js'
import type { TableContext } from './query.js'

// The due index: how due() finds pending deliveries without reading the delivered history (it runs every 15 s).
//
// Every pending delivery has an entry under pk ALERTS_DUE, sort key `{nextAttemptAt 13 digits}#{id}`, so due()
// is one strongly consistent Query (earliest due first) plus one BatchGetItem of the deliveries it names. The
// table's key schema and GSI are fixed, so the index is items of the table itself. Without TransactWriteItems
// (dynalite has none, and the same code runs there) an entry and its delivery are two writes, ordered so that a
// crash between any two writes can only leave an *extra* entry, never a pending delivery without one:
//
// - Whoever makes a delivery pending at time t (enqueue, or update to pending) first writes the entry (t, id)
//   with a fresh random nonce, then the delivery (conditionally) with `due_nonce` = that nonce. A crash between
//   the two leaves an entry whose delivery is absent or not pending at t: extra, never missing. (An enqueue that
//   died there failed for its caller, whose replay writes both again.)
// - A successful update then deletes the delivery's previous entry, on condition that its nonce is still the one
//   the delivery recorded (so an entry re-written since, for a new pending state at the same time, stays). A
//   failed conditional write deletes its own entry (nonce-checked) unless the stored delivery is pending at that
//   very time. A crash before either delete leaves an extra entry.
// - The delivery item is the truth: due() returns a delivery only if it is pending with nextAttemptAt equal to
//   the entry's time, so extra entries are never returned. It deletes the ones it meets once they are
//   STALE_GRACE_MS old, on condition that their nonce did not change: a younger one may belong to a writer
//   between its two writes, and a re-written one is somebody's new entry.
// - A writer whose two writes took longer than SLOW_WRITE_MS (far below the grace, which leaves room for clock
//   skew between processes) writes its entries again, with new nonces, in case due() judged them stale meanwhile.

/** How old an entry that no delivery confirms must be before due() deletes it. */
export const STALE_GRACE_MS = 10 * 60_000
/** Entries written longer ago than this by a write still in progress are written again. */
export const SLOW_WRITE_MS = 60_000

/** Deletes of stale entries in flight at once. */
const PARALLELISM = 8
/** The most entries one Query of the due index reads. */
const MAX_READ = 200

export interface DueEntry {
  item: Item
  key: Key
  /** The due time it is for. */
  at: number
  nonce: string
}

export function dueEntry(d: AlertDelivery, writtenAt: number): DueEntry {
  const key = dueKey(d.nextAttemptAt, d.id)
  const nonce = randomUUID()
  return {
    key,
    at: d.nextAttemptAt,
    nonce,
    item: { ...key, delivery_id: d.id, nonce, written_at: writtenAt },
  }
}

/** Writes entries (unconditionally: a re-written entry gets the new nonce, see above). */
export async function putDueEntries(
  ctx: TableContext,
  entries: readonly DueEntry[],
  retry: RetryOptions,
): Promise<void> {
  if (entries.length === 1 && entries[0]) {
    await ctx.doc.send(new PutCommand({ TableName: ctx.table, Item: entries[0].item }))
  } else {
    const puts = entries.map((e) => ({ PutRequest: { Item: e.item } }))
    await batchWriteAll(ctx.doc, ctx.table, puts, retry)
  }
}

/**
 * Deletes an entry unless it was re-written since its nonce was read. Housekeeping only, so it never fails: an
 * entry left behind is an extra one, which due() tolerates and removes later.
 */
export async function deleteDueEntry(ctx: TableContext, key: Key, nonce: string): Promise<void> {
  try {
    await ctx.doc.send(
      new DeleteCommand({
        TableName: ctx.table,
        Key: key,
        ConditionExpression: '#nonce = :nonce',
        ExpressionAttributeNames: { '#nonce': 'nonce' },
        ExpressionAttributeValues: { ':nonce': nonce },
      }),
    )
  } catch {
    // ConditionalCheckFailed: re-written since, so not ours to delete; any other failure: left for later.
  }
}

/**
 * After a successful write of `id`, whose stored item before the write was `old`: deletes the entry of the
 * previous pending state unless the write kept the same due time (its entry was then just re-written).
 */
export async function dropPreviousEntry(
  ctx: TableContext,
  id: string,
  old: Item | undefined,
  next: AlertDelivery,
): Promise<void> {
  const at = old?.next_attempt_at
  const nonce = old?.due_nonce
  if (old?.status !== 'pending' || typeof at !== 'number' || typeof nonce !== 'string') return
  if (next.status === 'pending' && next.nextAttemptAt === at) return
  await deleteDueEntry(ctx, dueKey(at, id), nonce)
}

/** Whether a stored delivery item is pending at exactly `at` (the entry at `at` is then its live entry). */
export function pendingAt(item: Item | null | undefined, at: number): boolean {
  return item?.status === 'pending' && item.next_attempt_at === at
}

/**
 * Pending deliveries due at `now` or earlier, earliest first (ties by id), at most `limit`; deletes the stale
 * entries met on the way (`clockNow`: the store's clock, for their age).
 */
export async function findDue(
  ctx: TableContext,
  now: number,
  limit: number,
  clockNow: number,
  retry: RetryOptions,
  channel?: string,
): Promise<AlertDelivery[]> {
  if (now < 0) return []
  // Delivery ids end with `>{channel}` and channel names hold no '>': the suffix names the channel exactly.
  const ofChannel = (id: string) => channel === undefined || id.endsWith(`>${channel}`)
  const t = Math.min(Math.floor(now), MAX_KEY_TIME)
  // Sort keys start with 13 digits: `< pad13(t + 1)` is every due time up to t; ':' follows '9'.
  const end = t === MAX_KEY_TIME ? ':' : pad13(t + 1)
  const found: AlertDelivery[] = []
  const stale: { key: Key; nonce: string }[] = []
  let startKey: Record<string, unknown> | undefined
  do {
    const out = await ctx.doc.send(
      new QueryCommand({
        TableName: ctx.table,
        KeyConditionExpression: '#pk = :pk AND #sk < :end',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': ALERTS_DUE_PK, ':end': end },
        ConsistentRead: true,
        Limit: Math.min(MAX_READ, limit - found.length + 10),
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    )
    startKey = out.LastEvaluatedKey
    const entries = ((out.Items ?? []) as Item[])
      .map((item) => {
        const r = new Reader(item)
        const sk = r.str(SK)
        return { key: { [PK]: ALERTS_DUE_PK, [SK]: sk }, at: dueSkTime(sk), id: r.str('delivery_id'), item }
      })
      .filter((e) => ofChannel(e.id))
    const ids = [...new Set(entries.map((e) => e.id))]
    const stored = await batchGetAll(ctx.doc, ctx.table, ids.map(deliveryKey), DELIVERY_ATTRIBUTES, retry)
    const byId = new Map(stored.map((item) => [String(item[SK]), item]))
    for (const entry of entries) {
      const delivery = byId.get(entry.id)
      if (pendingAt(delivery, entry.at)) {
        if (found.length < limit) found.push(itemToDelivery(delivery as Item))
      } else {
        const writtenAt = entry.item.written_at
        if (typeof writtenAt !== 'number' || writtenAt < clockNow - STALE_GRACE_MS) {
          stale.push({ key: entry.key, nonce: String(entry.item.nonce) })
        }
      }
    }
  } while (startKey !== undefined && found.length < limit)
  await mapLimit(stale, PARALLELISM, (s) => deleteDueEntry(ctx, s.key, s.nonce))
  return found
}
