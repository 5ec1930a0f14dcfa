import type { Alert, AlertDelivery, DeliveryStatus, Mute } from '../domain/alert.js'
import type { Page } from '../domain/anomaly.js'

// Alert channels and the alert outbox.

/** The outcome of one delivery attempt; channels report failures as values, they do not throw. */
export type DeliveryResult =
  | { status: 'delivered' }
  /** Worth trying again (5xx, 429, timeout, connection refused); retryAfterMs when the receiver said so. */
  | { status: 'retry'; error: string; retryAfterMs?: number }
  /** The receiver refused this alert for good (4xx other than 429): dead-lettered without further attempts. */
  | { status: 'rejected'; error: string }

export interface DeliveryContext {
  /** Unique per alert and channel; stable across retries. */
  deliveryId: string
  /** 1 for the first attempt. */
  attempt: number
}

/** One way of telling people (Slack, PagerDuty, ...): one folder under adapters/alerts each. */
export interface AlertChannel {
  readonly name: string
  send(alert: Alert, context: DeliveryContext): Promise<DeliveryResult>
  close?(): Promise<void>
}

export interface AlertQuery {
  status?: DeliveryStatus
  channel?: string
  limit: number
  cursor?: string
}

/** The durable outbox of alert deliveries, and the mutes. */
export interface AlertStore {
  /** Adds the deliveries whose id is not stored yet (a replayed run adds nothing); returns how many were added. */
  enqueue(deliveries: readonly AlertDelivery[]): Promise<number>
  /** Pending deliveries with nextAttemptAt <= now, earliest due first, at most `limit`; of one channel if given. */
  due(now: number, limit: number, channel?: string): Promise<AlertDelivery[]>
  /**
   * Replaces a delivery only if the stored one still has the expected status and attempts (optimistic lock: of
   * two workers claiming the same delivery, one wins). Returns whether it was written.
   */
  update(next: AlertDelivery, expected: { status: DeliveryStatus; attempts: number }): Promise<boolean>
  get(id: string): Promise<AlertDelivery | null>
  /** Newest first by id (ids start with the alert's ISO time). */
  list(query: AlertQuery): Promise<Page<AlertDelivery>>
  /** Every delivery of these alerts, whatever the channel (a key range each: ids start with the alert id), any order. */
  ofAlerts(alertIds: readonly string[]): Promise<AlertDelivery[]>

  putMute(mute: Mute): Promise<void>
  /** Mutes with until > now, newest created first. */
  activeMutes(now: number): Promise<Mute[]>
  /** Returns whether a mute with that id existed. */
  deleteMute(id: string): Promise<boolean>
}

/** What one alert channel's deliveries came to in a delivery pass. */
export interface ChannelDeliveries {
  delivered: number
  retrying: number
  failed: number
}
