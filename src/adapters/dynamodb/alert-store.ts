import { performance } from 'node:perf_hooks'
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import {
  type AlertDelivery,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  deliveryIdRange,
  type Mute,
} from '../../domain/alert.js'
import type { Page } from '../../domain/anomaly.js'
import type { AlertQuery, AlertStore, Clock } from '../../ports.js'
import { checkLimit, checkOneOf, checkTime, decodeCursor, encodeCursor } from '../store-args/paging.js'
import {
  type DueEntry,
  deleteDueEntry,
  dropPreviousEntry,
  dueEntry,
  findDue,
  pendingAt,
  putDueEntries,
  SLOW_WRITE_MS,
} from './alert-due.js'
import {
  checkDeliveries,
  checkMute,
  deliveryItem,
  deliveryState,
  itemToDelivery,
  itemToMute,
  muteItem,
} from './alert-items.js'
import { invalidCursor } from './anomaly-query.js'
import { batchGetAll, mapLimit, type RetryOptions } from './batch.js'
import { errorName } from './client.js'
import type { Item } from './items.js'
import { ALERTS_PK, deliveryKey, isAlertKey, MUTES_PK, muteKey, PK, SK, TTL } from './keys.js'
import { collectPage, getItem, queryAll, setExpression, type TableContext } from './query.js'

/** Conditional delivery writes in flight at once: an alert storm (hundreds) takes a few dozen round trips. */
const PARALLELISM = 16

const ALERT_CURSOR = ['string'] as const

/** What the alert store shares with the anomaly store that owns it. */
export interface AlertStoreContext extends TableContext {
  clock: Clock
  retry: RetryOptions
  /** The owner's wrapper: refuses when closed, turns SDK failures into StoreErrors naming `what` and the table. */
  run<T>(what: string, operation: () => Promise<T>): Promise<T>
}

/**
 * The alert outbox and the mutes, in the anomaly table (so an alert is exactly as durable as its incident):
 * deliveries under pk ALERTS by id, their due index under ALERTS_DUE (see alert-due.ts), mutes under MUTES.
 */
export class DynamoDbAlertStore implements AlertStore {
  constructor(private readonly ctx: AlertStoreContext) {}

  async enqueue(deliveries: readonly AlertDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0
    checkDeliveries(deliveries)
    const byId = new Map<string, AlertDelivery>()
    for (const d of deliveries) if (!byId.has(d.id)) byId.set(d.id, d)
    const unique = [...byId.values()]
    return this.ctx.run('enqueue alerts', async () => {
      // A replayed run enqueues what it raised before: stored ids are skipped up front, so a replay writes
      // nothing, not even due-index entries. (The conditional put below still decides: this is only a filter.)
      const keys = unique.map((d) => deliveryKey(d.id))
      const stored = await batchGetAll(this.ctx.doc, this.ctx.table, keys, [PK, SK], this.ctx.retry)
      const storedIds = new Set(stored.map((item) => String(item[SK])))
      const fresh = unique.filter((d) => !storedIds.has(d.id))
      const started = performance.now()
      // Entries before deliveries: a crash in between leaves extra entries, never an unfindable pending delivery.
      const entries = new Map<string, DueEntry>()
      for (const d of fresh) if (d.status === 'pending') entries.set(d.id, dueEntry(d, this.ctx.clock.now()))
      await putDueEntries(this.ctx, [...entries.values()], this.ctx.retry)
      const added = await mapLimit(fresh, PARALLELISM, (d) => this.insert(d, entries.get(d.id)))
      const inserted = fresh.filter((_, i) => added[i])
      // Stored by someone else since the filter above: our entries are extra unless the stored ones match them.
      const raced = fresh.filter((d, i) => !added[i] && entries.has(d.id))
      await mapLimit(raced, PARALLELISM, (d) => this.dropUnused(d.id, entries.get(d.id) as DueEntry))
      await this.rewriteIfSlow(
        started,
        inserted.filter((d) => d.status === 'pending'),
      )
      return inserted.length
    })
  }

  async due(now: number, limit: number, channel?: string): Promise<AlertDelivery[]> {
    checkLimit(limit)
    checkTime('now', now)
    return this.ctx.run('read due alerts', () =>
      findDue(this.ctx, now, limit, this.ctx.clock.now(), this.ctx.retry, channel),
    )
  }

  /**
   * A conditional UpdateItem of the attributes a delivery's life changes (status, attempts, times, error); a
   * missing item fails the condition too. Due-index upkeep as alert-due.ts explains: entry first, then the
   * delivery, then the previous entry's removal.
   */
  async update(
    next: AlertDelivery,
    expected: { status: DeliveryStatus; attempts: number },
  ): Promise<boolean> {
    checkDeliveries([next], false)
    return this.ctx.run('update an alert', async () => {
      const started = performance.now()
      const entry = next.status === 'pending' ? dueEntry(next, this.ctx.clock.now()) : undefined
      if (entry) await putDueEntries(this.ctx, [entry], this.ctx.retry)
      const { parts, name } = setExpression({ ...deliveryState(next), due_nonce: entry?.nonce })
      let old: Item | undefined
      try {
        const out = await this.ctx.doc.send(
          new UpdateCommand({
            TableName: this.ctx.table,
            Key: deliveryKey(next.id),
            ...parts,
            ConditionExpression: `${name.status} = :expectedStatus AND ${name.attempts} = :expectedAttempts`,
            ExpressionAttributeValues: {
              ...parts.ExpressionAttributeValues,
              ':expectedStatus': expected.status,
              ':expectedAttempts': expected.attempts,
            },
            ReturnValues: 'ALL_OLD',
          }),
        )
        old = out.Attributes as Item | undefined
      } catch (err) {
        if (errorName(err) !== 'ConditionalCheckFailedException') throw err
        if (entry) await this.dropUnused(next.id, entry)
        return false
      }
      await this.rewriteIfSlow(started, entry ? [next] : [])
      await dropPreviousEntry(this.ctx, next.id, old, next)
      return true
    })
  }

  async get(id: string): Promise<AlertDelivery | null> {
    if (!isAlertKey(id)) return null
    const item = await this.ctx.run('read an alert', () => getItem(this.ctx, deliveryKey(id)))
    return item ? itemToDelivery(item) : null
  }

  /** Newest first: the partition backwards (ids start with the alert's ISO time); status and channel filter. */
  async list(query: AlertQuery): Promise<Page<AlertDelivery>> {
    const limit = checkLimit(query.limit)
    checkOneOf('status', query.status, DELIVERY_STATUSES)
    const after = query.cursor === undefined ? null : decodeCursor('alerts', ALERT_CURSOR, query.cursor)
    if (after && !isAlertKey(after[0])) throw invalidCursor('not a cursor this store issued')
    const filters: string[] = []
    const names: Record<string, string> = { '#pk': PK }
    const values: Record<string, unknown> = { ':pk': ALERTS_PK }
    if (query.status !== undefined) {
      filters.push('#status = :status')
      names['#status'] = 'status'
      values[':status'] = query.status
    }
    if (query.channel !== undefined) {
      filters.push('#channel = :channel')
      names['#channel'] = 'channel'
      values[':channel'] = query.channel
    }
    const { items, more } = await this.ctx.run('list alerts', () =>
      collectPage(
        this.ctx.doc,
        {
          TableName: this.ctx.table,
          KeyConditionExpression: '#pk = :pk',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
        },
        limit,
        after ? deliveryKey(after[0]) : undefined,
        filters.length > 0 ? 4 : 1,
      ),
    )
    const deliveries = items.map(itemToDelivery)
    const last = deliveries[deliveries.length - 1]
    // The cursor is the last id returned: the next page starts strictly after it, whatever the filters.
    return { items: deliveries, nextCursor: more && last ? encodeCursor('alerts', [last.id]) : null }
  }

  /** One Query per alert (its delivery ids are a key range of the ALERTS partition), a few at a time. */
  async ofAlerts(alertIds: readonly string[]): Promise<AlertDelivery[]> {
    const found = await this.ctx.run('read the deliveries of alerts', () =>
      mapLimit([...alertIds], PARALLELISM, (alertId) => {
        const [from] = deliveryIdRange(alertId)
        return queryAll(this.ctx.doc, {
          TableName: this.ctx.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :from)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': ALERTS_PK, ':from': from },
        })
      }),
    )
    return found.flat().map(itemToDelivery)
  }

  async putMute(mute: Mute): Promise<void> {
    checkMute(mute)
    await this.ctx.run('save a mute', () =>
      this.ctx.doc.send(new PutCommand({ TableName: this.ctx.table, Item: muteItem(mute) })),
    )
  }

  /**
   * The MUTES partition, filtered on `until` (not on ttl: TTL deletes lazily, and an expired mute must never
   * match whether or not it has been swept). Mutes are few: sorted here.
   */
  async activeMutes(now: number): Promise<Mute[]> {
    checkTime('now', now)
    const items = await this.ctx.run('list mutes', () =>
      queryAll(this.ctx.doc, {
        TableName: this.ctx.table,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#until > :now',
        ExpressionAttributeNames: { '#pk': PK, '#until': 'until' },
        ExpressionAttributeValues: { ':pk': MUTES_PK, ':now': now },
        ConsistentRead: true,
      }),
    )
    return items
      .map(itemToMute)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** An item past its ttl counts as gone, swept or not, so the answer does not depend on TTL's timing. */
  async deleteMute(id: string): Promise<boolean> {
    if (!isAlertKey(id)) return false
    const out = await this.ctx.run('delete a mute', () =>
      this.ctx.doc.send(
        new DeleteCommand({ TableName: this.ctx.table, Key: muteKey(id), ReturnValues: 'ALL_OLD' }),
      ),
    )
    const old = out.Attributes
    if (!old) return false
    const ttl = old[TTL]
    return !(typeof ttl === 'number' && ttl < Math.floor(this.ctx.clock.now() / 1000))
  }

  // ---- Internals -------------------------------------------------------------------------------------------

  /** Insert-if-absent; whether it was added. */
  private async insert(d: AlertDelivery, entry: DueEntry | undefined): Promise<boolean> {
    try {
      await this.ctx.doc.send(
        new PutCommand({
          TableName: this.ctx.table,
          Item: deliveryItem(d, entry?.nonce),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      )
      return true
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false
      throw err
    }
  }

  /**
   * After a failed conditional write: removes the entry written for it, unless the stored delivery is pending
   * at that very time (the entry is then its live one). The nonce is ours and our write is over, so an entry
   * still carrying it belongs to no writer in progress; anyone making the delivery pending at that time later
   * re-writes the entry (new nonce) before the delivery, which makes this delete fail.
   */
  private async dropUnused(id: string, entry: DueEntry): Promise<void> {
    let stored: Item | null
    try {
      stored = await getItem(this.ctx, deliveryKey(id))
    } catch {
      return // housekeeping: the entry is extra, due() removes it later
    }
    if (!pendingAt(stored, entry.at)) await deleteDueEntry(this.ctx, entry.key, entry.nonce)
  }

  /** See alert-due.ts: entries of a write that took too long may have been judged stale; write them anew. */
  private async rewriteIfSlow(started: number, pending: readonly AlertDelivery[]): Promise<void> {
    if (pending.length === 0 || performance.now() - started < SLOW_WRITE_MS) return
    const now = this.ctx.clock.now()
    await putDueEntries(
      this.ctx,
      pending.map((d) => dueEntry(d, now)),
      this.ctx.retry,
    )
  }
}
