import type { AnomalyQuery } from '../../domain/anomaly.js'
import {
  type AnomalySort,
  DEFAULT_ANOMALY_SORT,
  DEFAULT_INCIDENT_SORT,
  type IncidentSort,
} from '../../domain/list-sorts.js'
import { SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import type { IncidentQuery } from '../../ports.js'
import {
  checkLimit,
  checkOneOf,
  checkTime,
  decodeCursor,
  encodeCursor,
  type KeyPart,
  sortedCursorKind,
} from '../store-args/paging.js'

const SEVERITIES: readonly string[] = ['warning', 'critical']
const INCIDENT_STATUSES: readonly string[] = ['open', 'resolved']

/** A listing's SELECT with its named parameters; it fetches limit + 1 rows so the caller knows if a page follows. */
export interface ListQuery {
  sql: string
  params: Record<string, unknown>
  limit: number
  /** The cursor that resumes after a row. */
  cursorOf: (row: Record<string, unknown>) => string
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

type Row = Record<string, unknown>

/** One column of an order: its SQL, direction, cursor key part, and its value in a row read back. */
interface SortColumn {
  sql: string
  desc: boolean
  part: KeyPart
  of: (row: Row) => number | string
}

const col = (name: string, part: KeyPart, desc = false): SortColumn => ({
  sql: name,
  desc,
  part,
  of: (row) => row[name] as number | string,
})

// Each order ends with the listing's unique key, so it is total and a cursor (the last row's values) resumes
// exactly. Every first column has an index (migrations 1, 6 and 7), so the first page and a deep one both seek.
const ANOMALY_ORDER = [col('metric', 'string'), col('customer_id', 'string'), col('kind', 'string')]
const ANOMALY_ORDERS: Record<AnomalySort, SortColumn[]> = {
  '-detected_at': [col('detected_at', 'int', true), ...ANOMALY_ORDER],
  // Oldest first is newest first read backwards (ties too), so the same index serves it without a sort.
  detected_at: [
    col('detected_at', 'int'),
    col('metric', 'string', true),
    col('customer_id', 'string', true),
    col('kind', 'string', true),
  ],
  severity: [col('severity', 'string'), col('detected_at', 'int', true), ...ANOMALY_ORDER],
  customer_id: [
    col('customer_id', 'string'),
    col('detected_at', 'int', true),
    col('metric', 'string'),
    col('kind', 'string'),
  ],
}
const INCIDENT_ORDERS: Record<IncidentSort, SortColumn[]> = {
  '-opened_at': [col('opened_at', 'int', true), col('id', 'string')],
  opened_at: [col('opened_at', 'int'), col('id', 'string', true)],
  severity: [col('severity', 'string'), col('opened_at', 'int', true), col('id', 'string')],
  customer_id: [col('customer_id', 'string'), col('opened_at', 'int', true), col('id', 'string')],
  '-peak_z_score': [
    {
      sql: 'abs(peak_z_score)',
      desc: true,
      part: 'number',
      of: (row) => Math.abs(row.peak_z_score as number),
    },
    col('opened_at', 'int', true),
    col('id', 'string'),
  ],
}

/** The rows strictly after the cursor's key in this order; the plain bound on the first column lets an index seek. */
function addAfter(filters: Filters, order: SortColumn[], key: readonly (number | string)[]): void {
  const [first] = order
  if (!first) return
  order.forEach((_, i) => {
    filters.params[`c_${i}`] = key[i]
  })
  filters.where.push(`${first.sql} ${first.desc ? '<=' : '>='} @c_0`)
  const strictly = order.map((c, i) =>
    [...order.slice(0, i).map((p, j) => `${p.sql} = @c_${j}`), `${c.sql} ${c.desc ? '<' : '>'} @c_${i}`].join(
      ' AND ',
    ),
  )
  filters.where.push(`(${strictly.map((s) => `(${s})`).join(' OR ')})`)
}

function orderBy(order: SortColumn[]): string {
  return order.map((c) => `${c.sql}${c.desc ? ' DESC' : ''}`).join(', ')
}

/** A listing's order, checked, with the cursor kind and key of a row in it. */
function sortOf<S extends string>(
  listing: 'anomalies' | 'incidents',
  orders: Record<S, SortColumn[]>,
  sort: S | undefined,
  defaultSort: S,
) {
  checkOneOf('sort', sort, Object.keys(orders))
  const order = orders[sort ?? defaultSort]
  const kind = sortedCursorKind(listing, sort, defaultSort)
  return {
    order,
    kind,
    shape: order.map((c) => c.part),
    cursorOf: (row: Row) =>
      encodeCursor(
        kind,
        order.map((c) => c.of(row)),
      ),
  }
}

/** Stored anomalies in the query's order, validated and filtered; rows past their ttl are hidden before the sweep. */
export function anomalyListQuery(query: AnomalyQuery, nowSeconds: number): ListQuery {
  const limit = checkLimit(query.limit)
  checkOneOf('severity', query.severity, SEVERITIES)
  checkOneOf('kind', query.kind, SIGNAL_KINDS)
  checkTime('since', query.since)
  checkTime('until', query.until)
  const sort = sortOf('anomalies', ANOMALY_ORDERS, query.sort, DEFAULT_ANOMALY_SORT)
  const after = query.cursor === undefined ? null : decodeCursor(sort.kind, sort.shape, query.cursor)
  const filters = new Filters('ttl >= @now_s', { now_s: nowSeconds, limit: limit + 1 })
    .add('customer_id = @customer_id', 'customer_id', query.customerId)
    .add('metric = @metric', 'metric', query.metric)
    .add('severity = @severity', 'severity', query.severity)
    .add('kind = @kind', 'kind', query.kind)
    .add('detected_at >= @since', 'since', query.since)
    .add('detected_at < @until', 'until', query.until)
  return pagedQuery('anomalies', filters, sort, after, limit)
}

/** Incidents in the query's order, validated and filtered. */
export function incidentListQuery(query: IncidentQuery): ListQuery {
  const limit = checkLimit(query.limit)
  checkOneOf('status', query.status, INCIDENT_STATUSES)
  checkOneOf('severity', query.severity, SEVERITIES)
  checkOneOf('kind', query.kind, SIGNAL_KINDS)
  checkTime('opened_since', query.openedSince)
  checkTime('opened_until', query.openedUntil)
  const sort = sortOf('incidents', INCIDENT_ORDERS, query.sort, DEFAULT_INCIDENT_SORT)
  const after = query.cursor === undefined ? null : decodeCursor(sort.kind, sort.shape, query.cursor)
  const filters = new Filters('1 = 1', { limit: limit + 1 })
    .add('status = @status', 'status', query.status)
    .add('customer_id = @customer_id', 'customer_id', query.customerId)
    .add('metric = @metric', 'metric', query.metric)
    .add('severity = @severity', 'severity', query.severity)
    .add(
      '(opened_by_signal = @kind OR EXISTS (SELECT 1 FROM json_each(firing_signals) WHERE value = @kind))',
      'kind',
      query.kind,
    )
    .add('opened_at >= @opened_since', 'opened_since', query.openedSince)
    .add('opened_at < @opened_until', 'opened_until', query.openedUntil)
  return pagedQuery('incidents', filters, sort, after, limit)
}

/** One page of a table in the sort's order, after the cursor's row: the tail both listings share. */
function pagedQuery(
  table: 'anomalies' | 'incidents',
  filters: Filters,
  sort: { order: SortColumn[]; cursorOf: ListQuery['cursorOf'] },
  after: readonly (number | string)[] | null,
  limit: number,
): ListQuery {
  if (after) addAfter(filters, sort.order, after)
  return {
    sql: `SELECT * FROM ${table} WHERE ${filters.where.join(' AND ')} ORDER BY ${orderBy(sort.order)} LIMIT @limit`,
    params: filters.params,
    limit,
    cursorOf: sort.cursorOf,
  }
}
