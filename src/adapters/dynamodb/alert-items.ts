import {
  type Alert,
  type AlertDelivery,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type Mute,
} from '../../domain/alert.js'
import { withLegacySignals } from '../../domain/alert-factory.js'
import { ANOMALY_RETENTION_DAYS } from '../../domain/anomaly.js'
import { type FieldIssue, StoreError, ValidationError } from '../../errors.js'
import { checkNumbers } from '../store-args/numbers.js'
import { type Item, Reader } from './items.js'
import { checkKeyTime, deliveryKey, isAlertKey, MAX_ALERT_KEY_BYTES, muteKey, PK, SK, TTL } from './keys.js'

// Items of the alert outbox and the mutes. None carries `metric` or `detected_at`: they stay out of the GSI.

const DAY_S = 86_400
const RETENTION_S = ANOMALY_RETENTION_DAYS * DAY_S
/** An expired mute is kept (invisible to reads) a little while before TTL deletes it. */
const MUTE_LINGER_S = 7 * DAY_S

/**
 * Statuses nothing more happens to without a person: such deliveries expire (TTL) after the anomaly
 * retention. failed and held ones stay until someone retries or looks at them; pending ones must never expire.
 */
const SETTLED: readonly DeliveryStatus[] = ['delivered', 'muted', 'suppressed']

/** The attributes update() may change: the rest (id, channel, alert, created_at) is fixed at enqueue. */
export function deliveryState(d: AlertDelivery): Item {
  return {
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_error: d.lastError,
    updated_at: d.updatedAt,
    delivered_at: d.deliveredAt,
    [TTL]: SETTLED.includes(d.status) ? Math.floor(d.updatedAt / 1000) + RETENTION_S : undefined,
  }
}

/**
 * The whole delivery item. The alert is a JSON string, not a map: the store never queries inside it, JSON keeps
 * every value exactly as the domain object had it (a map would be bound by DynamoDB's number range and 38-digit
 * precision), and it is written once, at enqueue. `dueNonce` names the due-index entry written with it.
 */
export function deliveryItem(d: AlertDelivery, dueNonce: string | undefined): Item {
  return {
    ...deliveryKey(d.id),
    channel: d.channel,
    created_at: d.createdAt,
    alert_json: JSON.stringify(d.alert),
    ...deliveryState(d),
    due_nonce: dueNonce,
  }
}

/** Every attribute itemToDelivery reads (a projection for BatchGetItem). */
export const DELIVERY_ATTRIBUTES: readonly string[] = [
  PK,
  SK,
  'channel',
  'status',
  'attempts',
  'next_attempt_at',
  'last_error',
  'created_at',
  'updated_at',
  'delivered_at',
  'alert_json',
]

export function itemToDelivery(item: Item): AlertDelivery {
  const r = new Reader(item)
  return {
    id: r.str(SK),
    channel: r.str('channel'),
    status: r.oneOf('status', DELIVERY_STATUSES),
    attempts: r.num('attempts'),
    nextAttemptAt: r.num('next_attempt_at'),
    lastError: r.nullableStr('last_error'),
    createdAt: r.num('created_at'),
    updatedAt: r.num('updated_at'),
    deliveredAt: r.nullableNum('delivered_at'),
    alert: parseAlert(item, r.str('alert_json')),
  }
}

function parseAlert(item: Item, json: string): Alert {
  let alert: unknown
  try {
    alert = JSON.parse(json)
  } catch {
    alert = null
  }
  if (typeof alert !== 'object' || alert === null || typeof (alert as { id?: unknown }).id !== 'string') {
    throw new StoreError(
      `malformed DynamoDB item ${String(item[PK])} / ${String(item[SK])}: attribute alert_json is not an alert`,
    )
  }
  return withLegacySignals(alert as Alert)
}

export function muteItem(m: Mute): Item {
  return {
    ...muteKey(m.id),
    customer_id: m.customerId,
    // Not `metric`: together with a `detected_at` that would put the item in the seed's GSI.
    mute_metric: m.metric,
    until: m.until,
    reason: m.reason,
    created_at: m.createdAt,
    [TTL]: Math.ceil(m.until / 1000) + MUTE_LINGER_S,
  }
}

export function itemToMute(item: Item): Mute {
  const r = new Reader(item)
  return {
    id: r.str(SK),
    customerId: r.nullableStr('customer_id'),
    metric: r.nullableStr('mute_metric'),
    until: r.num('until'),
    reason: r.nullableStr('reason'),
    createdAt: r.num('created_at'),
  }
}

// ---- Checks before writing ---------------------------------------------------------------------------------
// DynamoDB refuses NaN, Infinity and over-long keys with an error that would surface as a StoreError; they are
// the caller's mistakes, so they are ValidationErrors, as in the rest of the adapter.

const DELIVERY_INTEGERS = ['attempts', 'nextAttemptAt', 'createdAt', 'updatedAt', 'deliveredAt'] as const

export function checkDeliveries(deliveries: readonly AlertDelivery[], batch = true): void {
  checkNumbers('alert deliveries', deliveries, DELIVERY_INTEGERS, [], batch)
  const issues: FieldIssue[] = []
  deliveries.forEach((d, i) => {
    const at = batch ? { index: i } : {}
    if (!isAlertKey(d.id)) {
      issues.push({ field: 'id', reason: `must be 1 to ${MAX_ALERT_KEY_BYTES} bytes`, ...at })
    }
    if (!DELIVERY_STATUSES.includes(d.status)) {
      issues.push({ field: 'status', reason: `must be one of ${DELIVERY_STATUSES.join(', ')}`, ...at })
    }
    if (typeof d.alert !== 'object' || d.alert === null || !finiteJson(d.alert)) {
      issues.push({ field: 'alert', reason: 'must be a JSON object whose numbers are all finite', ...at })
    }
  })
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid alert deliveries: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`,
      issues,
    )
  }
  // A pending delivery's due time is part of its due-index key.
  deliveries.forEach((d, i) => {
    if (d.status === 'pending') checkKeyTime('next_attempt_at', d.nextAttemptAt, batch ? i : undefined)
  })
}

/** JSON would turn NaN and Infinity into null: such an alert could not round-trip, so it is refused. */
function finiteJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every(finiteJson)
  if (typeof value === 'object' && value !== null) return Object.values(value).every(finiteJson)
  return true
}

export function checkMute(m: Mute): void {
  checkNumbers('mute', [m], ['until', 'createdAt'], [], false)
  if (!isAlertKey(m.id)) {
    throw new ValidationError(`invalid mute id`, [
      { field: 'id', reason: `must be 1 to ${MAX_ALERT_KEY_BYTES} bytes` },
    ])
  }
}
