import type Database from 'better-sqlite3'
import { type AlertDelivery, DELIVERY_STATUSES, deliveryIdRange, type Mute } from '../../domain/alert.js'
import { withLegacySignals } from '../../domain/alert-factory.js'
import type { Page } from '../../domain/anomaly.js'
import type { AlertQuery, AlertStore } from '../../ports.js'
import { checkLimit, checkOneOf, decodeCursor, encodeCursor, toPage } from '../store-args/paging.js'

interface DeliveryRow {
  id: string
  channel: string
  status: AlertDelivery['status']
  attempts: number
  next_attempt_at: number
  last_error: string | null
  created_at: number
  updated_at: number
  delivered_at: number | null
  alert: string
}

interface MuteRow {
  id: string
  customer_id: string | null
  metric: string | null
  until: number
  reason: string | null
  created_at: number
}

const ALERT_KEY = ['string'] as const

/** The outbox and mutes in the anomaly store's SQLite file, so an alert is exactly as durable as its incident. */
export class SqliteAlertStore implements AlertStore {
  constructor(
    private readonly db: Database.Database,
    /** The owning store's error wrapper (StoreError with the file's path). */
    private readonly run: <T>(what: string, operation: () => T) => T,
  ) {}

  async enqueue(deliveries: readonly AlertDelivery[]): Promise<number> {
    if (deliveries.length === 0) return 0
    const insert = this.db.prepare(
      `INSERT INTO alert_deliveries VALUES (@id, @channel, @status, @attempts, @next_attempt_at, @last_error,
         @created_at, @updated_at, @delivered_at, @alert) ON CONFLICT (id) DO NOTHING`,
    )
    return this.run('enqueue alerts', () =>
      this.db
        .transaction(() => deliveries.reduce((added, d) => added + insert.run(toRow(d)).changes, 0))
        .immediate(),
    )
  }

  async due(now: number, limit: number, channel?: string): Promise<AlertDelivery[]> {
    checkLimit(limit)
    const rows = this.run('read due alerts', () =>
      this.db
        .prepare(
          `SELECT * FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= @now
             ${channel === undefined ? '' : 'AND channel = @channel'}
           ORDER BY next_attempt_at, id LIMIT @limit`,
        )
        .all({ now, limit, ...(channel === undefined ? {} : { channel }) }),
    ) as DeliveryRow[]
    return rows.map(fromRow)
  }

  async update(next: AlertDelivery, expected: { status: string; attempts: number }): Promise<boolean> {
    const row = toRow(next)
    const result = this.run('update an alert', () =>
      this.db
        .prepare(
          `UPDATE alert_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next_attempt_at,
             last_error = @last_error, updated_at = @updated_at, delivered_at = @delivered_at
           WHERE id = @id AND status = @expected_status AND attempts = @expected_attempts`,
        )
        .run({
          id: row.id,
          status: row.status,
          attempts: row.attempts,
          next_attempt_at: row.next_attempt_at,
          last_error: row.last_error,
          updated_at: row.updated_at,
          delivered_at: row.delivered_at,
          expected_status: expected.status,
          expected_attempts: expected.attempts,
        }),
    )
    return result.changes > 0
  }

  async get(id: string): Promise<AlertDelivery | null> {
    const row = this.run('read an alert', () =>
      this.db.prepare('SELECT * FROM alert_deliveries WHERE id = ?').get(id),
    ) as DeliveryRow | undefined
    return row ? fromRow(row) : null
  }

  async list(query: AlertQuery): Promise<Page<AlertDelivery>> {
    const limit = checkLimit(query.limit)
    checkOneOf('status', query.status, DELIVERY_STATUSES)
    const after = query.cursor === undefined ? null : decodeCursor('alerts', ALERT_KEY, query.cursor)
    const where = ['1 = 1']
    const params: Record<string, unknown> = { limit: limit + 1 }
    if (query.status !== undefined) {
      where.push('status = @status')
      params.status = query.status
    }
    if (query.channel !== undefined) {
      where.push('channel = @channel')
      params.channel = query.channel
    }
    if (after) {
      where.push('id < @after')
      params.after = after[0]
    }
    const rows = this.run('list alerts', () =>
      this.db
        .prepare(`SELECT * FROM alert_deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`)
        .all(params),
    ) as DeliveryRow[]
    return toPage(rows, limit, fromRow, (r) => encodeCursor('alerts', [r.id]))
  }

  async ofAlerts(alertIds: readonly string[]): Promise<AlertDelivery[]> {
    const range = this.db.prepare('SELECT * FROM alert_deliveries WHERE id >= ? AND id < ?')
    const rows = this.run('read the deliveries of alerts', () =>
      alertIds.flatMap((alertId) => range.all(...deliveryIdRange(alertId)) as DeliveryRow[]),
    )
    return rows.map(fromRow)
  }

  async putMute(mute: Mute): Promise<void> {
    this.run('save a mute', () =>
      this.db
        .prepare(
          `INSERT INTO mutes VALUES (@id, @customer_id, @metric, @until, @reason, @created_at)
           ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, metric = excluded.metric,
             until = excluded.until, reason = excluded.reason, created_at = excluded.created_at`,
        )
        .run({
          id: mute.id,
          customer_id: mute.customerId,
          metric: mute.metric,
          until: mute.until,
          reason: mute.reason,
          created_at: mute.createdAt,
        }),
    )
  }

  async activeMutes(now: number): Promise<Mute[]> {
    const rows = this.run('list mutes', () =>
      this.db.prepare('SELECT * FROM mutes WHERE until > ? ORDER BY created_at DESC, id').all(now),
    ) as MuteRow[]
    return rows.map((r) => ({
      id: r.id,
      customerId: r.customer_id,
      metric: r.metric,
      until: r.until,
      reason: r.reason,
      createdAt: r.created_at,
    }))
  }

  async deleteMute(id: string): Promise<boolean> {
    return this.run(
      'delete a mute',
      () => this.db.prepare('DELETE FROM mutes WHERE id = ?').run(id).changes > 0,
    )
  }
}

function toRow(d: AlertDelivery): DeliveryRow {
  return {
    id: d.id,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_error: d.lastError,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    delivered_at: d.deliveredAt,
    alert: JSON.stringify(d.alert),
  }
}

function fromRow(r: DeliveryRow): AlertDelivery {
  return {
    id: r.id,
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
    alert: withLegacySignals(JSON.parse(r.alert) as AlertDelivery['alert']),
  }
}
