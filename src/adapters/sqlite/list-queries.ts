import type { AnomalyQuery } from '../../domain/anomaly.js'
import { SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import { ValidationError } from '../../errors.js'
import type { IncidentQuery } from '../../ports.js'
import {
  ANOMALY_KEY,
  checkLimit,
  checkOneOf,
  checkTime,
  decodeCursor,
  INCIDENT_KEY,
} from '../store-args/paging.js'

const SEVERITIES: readonly string[] = ['warning', 'critical']
const INCIDENT_STATUSES: readonly string[] = ['open', 'resolved']

/** A listing's SELECT with its named parameters; it fetches limit + 1 rows so the caller knows if a page follows. */
export interface ListQuery {
  sql: string
  params: Record<string, unknown>
  limit: number
}

/** Filters built up clause by clause: `add` skips a filter whose value was not given. */
class Filters {
  readonly where: string[]
  readonly params: Record<string, unknown>

  constructor(first: string, params: Record<string, unknown>) {
    this.where = [first]
    this.params = params
  }

  add(clause: string, name: string, value: unknown): this {
    if (value !== undefined) {
      this.where.push(clause)
      this.params[name] = value
    }
    return this
  }
}

/** Stored anomalies, newest first, validated and filtered; rows past their ttl are hidden before the sweep. */
export function anomalyListQuery(query: AnomalyQuery, nowSeconds: number): ListQuery {
  if (query.customerId === undefined && query.metric === undefined) {
    const reason = 'an anomaly query needs customer_id or metric (or both)'
    throw new ValidationError(reason, [
      { field: 'customer_id', reason },
      { field: 'metric', reason },
    ])
  }
  const limit = checkLimit(query.limit)
  checkOneOf('severity', query.severity, SEVERITIES)
  checkOneOf('kind', query.kind, SIGNAL_KINDS)
  checkTime('since', query.since)
  checkTime('until', query.until)
  const after = query.cursor === undefined ? null : decodeCursor('anomalies', ANOMALY_KEY, query.cursor)
  const filters = new Filters('ttl >= @now_s', { now_s: nowSeconds, limit: limit + 1 })
    .add('customer_id = @customer_id', 'customer_id', query.customerId)
    .add('metric = @metric', 'metric', query.metric)
    .add('severity = @severity', 'severity', query.severity)
    .add('kind = @kind', 'kind', query.kind)
    .add('detected_at >= @since', 'since', query.since)
    .add('detected_at < @until', 'until', query.until)
  if (after) {
    // Strictly after the cursor in (detected_at DESC, metric, customer_id, kind); the plain bound lets the index
    // seek.
    filters.where.push(
      'detected_at <= @c_detected_at',
      `(detected_at < @c_detected_at OR (detected_at = @c_detected_at
        AND (metric, customer_id, kind) > (@c_metric, @c_customer_id, @c_kind)))`,
    )
    ;[
      filters.params.c_detected_at,
      filters.params.c_metric,
      filters.params.c_customer_id,
      filters.params.c_kind,
    ] = after
  }
  return {
    sql: `SELECT * FROM anomalies WHERE ${filters.where.join(' AND ')}
          ORDER BY detected_at DESC, metric, customer_id, kind LIMIT @limit`,
    params: filters.params,
    limit,
  }
}

/** Incidents, newest opened first, validated and filtered. */
export function incidentListQuery(query: IncidentQuery): ListQuery {
  const limit = checkLimit(query.limit)
  checkOneOf('status', query.status, INCIDENT_STATUSES)
  checkOneOf('severity', query.severity, SEVERITIES)
  checkTime('opened_since', query.openedSince)
  checkTime('opened_until', query.openedUntil)
  const after = query.cursor === undefined ? null : decodeCursor('incidents', INCIDENT_KEY, query.cursor)
  const filters = new Filters('1 = 1', { limit: limit + 1 })
    .add('status = @status', 'status', query.status)
    .add('customer_id = @customer_id', 'customer_id', query.customerId)
    .add('metric = @metric', 'metric', query.metric)
    .add('severity = @severity', 'severity', query.severity)
    .add('opened_at >= @opened_since', 'opened_since', query.openedSince)
    .add('opened_at < @opened_until', 'opened_until', query.openedUntil)
  if (after) {
    filters.where.push(
      'opened_at <= @c_opened_at',
      '(opened_at < @c_opened_at OR (opened_at = @c_opened_at AND id > @c_id))',
    )
    ;[filters.params.c_opened_at, filters.params.c_id] = after
  }
  return {
    sql: `SELECT * FROM incidents WHERE ${filters.where.join(' AND ')} ORDER BY opened_at DESC, id LIMIT @limit`,
    params: filters.params,
    limit,
  }
}
