import { type AnomalyQuery, type AnomalyRecord, anomalyIdentity } from '../../domain/anomaly.js'
import {
  ANOMALY_SORTS,
  type AnomalySort,
  INCIDENT_SORTS,
  type IncidentSort,
  isAscendingTimeSort,
  isTimeSort,
} from '../../domain/list-sorts.js'
import { isSignalKind, LEGACY_SIGNAL_KIND, SIGNAL_KINDS } from '../../domain/signals/signal-registry.js'
import { ValidationError } from '../../errors.js'
import { checkAnomalyRecords } from '../store-args/numbers.js'
import { checkOneOf, checkTime } from '../store-args/paging.js'
import {
  anomalyKey,
  anomalySkRange,
  checkKeyTime,
  customerPk,
  MAX_KEY_TIME,
  METRIC_INDEX,
  PK,
  SK,
  TTL,
} from './keys.js'
import type { QueryInput } from './query.js'

const SEVERITIES: readonly string[] = ['warning', 'critical']

export function invalidCursor(reason: string): ValidationError {
  return new ValidationError(`invalid cursor: ${reason}`, [
    { field: 'cursor', reason: `${reason}; pass back nextCursor of the previous page unchanged` },
  ])
}

/** Numbers must be finite (DynamoDB refuses NaN and Infinity) and detected_at must fit the 13-digit key. */
export function checkAnomalyItems(records: readonly AnomalyRecord[]): void {
  checkAnomalyRecords(records)
  records.forEach((r, index) => {
    checkKeyTime('detected_at', r.detectedAt, index)
  })
}

/** One record per identity (customer, metric, detected_at, kind), the first of each. */
export function dedupeAnomalies(records: readonly AnomalyRecord[]): AnomalyRecord[] {
  const unique = new Map<string, AnomalyRecord>()
  for (const r of records) {
    const id = anomalyIdentity(r)
    if (!unique.has(id)) unique.set(id, r)
  }
  return [...unique.values()]
}

/** The arguments' checks, in the SQLite store's order, so both stores refuse the same queries alike. */
export function checkAnomalyQuery(query: AnomalyQuery): void {
  if (query.customerId === undefined && query.metric === undefined) {
    const reason = 'an anomaly query needs customer_id or metric (or both)'
    throw new ValidationError(reason, [
      { field: 'customer_id', reason },
      { field: 'metric', reason },
    ])
  }
  checkOneOf('severity', query.severity, SEVERITIES)
  checkOneOf('kind', query.kind, SIGNAL_KINDS)
  checkTime('since', query.since)
  checkTime('until', query.until)
  checkKeySort('anomalies', query.sort, Object.keys(ANOMALY_SORTS))
}

/**
 * Only the orders of a key: the table's sort key and the GSI's are detected_at, the incident partition's the
 * opening time. Any other order (severity, customer, |z|) would read the whole table and sort it per page: refused
 * with the reason, not answered slowly.
 */
export function checkKeySort(
  listing: 'anomalies' | 'incidents',
  sort: AnomalySort | IncidentSort | undefined,
  allowed: readonly string[],
): void {
  checkOneOf('sort', sort, allowed)
  if (sort === undefined || isTimeSort(sort)) return
  const time = listing === 'anomalies' ? 'detected_at' : 'opened_at'
  const reason = `the DynamoDB store sorts ${listing} by ${time} only (its keys); sort=${sort} would scan the whole table: use sort=-${time} or sort=${time} with filters`
  throw new ValidationError(`unsupported sort: ${sort}`, [{ field: 'sort', reason }])
}

export const INCIDENT_SORT_NAMES: readonly string[] = Object.keys(INCIDENT_SORTS)

export interface AnomalyQueryPlan {
  input: QueryInput
  /** The last returned item's key (table key, plus the GSI's for an index query). */
  startKey: Record<string, unknown> | undefined
  readAhead: number
}

/**
 * The Query that answers an anomaly query, newest first (oldest first for sort=detected_at): by customer, the table's partition (sk range over
 * detected_at; a metric, if given too, filters); by metric alone, the seed's GSI (detected_at range). Expired
 * items (ttl in the past, not yet deleted by DynamoDB's lazy TTL) and other severities are filtered out.
 * `after` is the cursor's (detected_at, metric, customer_id): its position becomes ExclusiveStartKey and the
 * time range's upper end. Null when nothing can match.
 */
export function anomalyQueryPlan(
  table: string,
  query: AnomalyQuery,
  after: readonly [number, string, string, string] | null,
  nowS: number,
): AnomalyQueryPlan | null {
  const ascending = query.sort !== undefined && isAscendingTimeSort(query.sort)
  let from = query.since === undefined ? 0 : Math.max(0, Math.ceil(query.since))
  let to = query.until === undefined ? MAX_KEY_TIME : Math.min(MAX_KEY_TIME, Math.ceil(query.until) - 1)
  let startKey: Record<string, unknown> | undefined
  if (after) {
    const [t, metric, customerId, kind] = after
    if (!Number.isSafeInteger(t) || t < 0 || t > MAX_KEY_TIME || !isSignalKind(kind))
      throw invalidCursor('not a cursor this store issued')
    if (query.customerId !== undefined && customerId !== query.customerId) {
      throw invalidCursor('the cursor belongs to a query for another customer')
    }
    if (query.metric !== undefined && metric !== query.metric) {
      throw invalidCursor('the cursor belongs to a query for another metric')
    }
    // Read backwards (newest first) the cursor bounds the range from above; read forwards, from below. A cursor
    // before the range's start resumes from the start.
    if (ascending ? t > to : t < from) return null
    if (ascending ? t >= from : t <= to) {
      if (ascending) from = t
      else to = t
      startKey = anomalyKey(customerId, t, metric, kind)
      if (query.customerId === undefined) startKey = { ...startKey, metric, detected_at: t }
    }
  }
  if (from > to) return null

  const names: Record<string, string> = { '#ttl': TTL }
  const values: Record<string, unknown> = { ':now': nowS }
  const filters = ['#ttl >= :now']
  if (query.severity !== undefined) {
    filters.push('#severity = :severity')
    names['#severity'] = 'severity'
    values[':severity'] = query.severity
  }
  if (query.kind !== undefined) {
    // Volume items are the seed's, without a kind attribute (see anomalyItem).
    filters.push(query.kind === LEGACY_SIGNAL_KIND ? 'attribute_not_exists(#kind)' : '#kind = :kind')
    names['#kind'] = 'kind'
    if (query.kind !== LEGACY_SIGNAL_KIND) values[':kind'] = query.kind
  }
  let keyCondition: string
  if (query.customerId !== undefined) {
    const [low, high] = anomalySkRange(from, to)
    keyCondition = '#pk = :pk AND #sk BETWEEN :low AND :high'
    Object.assign(names, { '#pk': PK, '#sk': SK })
    Object.assign(values, { ':pk': customerPk(query.customerId), ':low': low, ':high': high })
    if (query.metric !== undefined) {
      filters.push('#metric = :metric')
      names['#metric'] = 'metric'
      values[':metric'] = query.metric
    }
  } else {
    keyCondition = '#metric = :metric AND #detected_at BETWEEN :low AND :high'
    Object.assign(names, { '#metric': 'metric', '#detected_at': 'detected_at' })
    Object.assign(values, { ':metric': query.metric, ':low': from, ':high': to })
  }
  return {
    input: {
      TableName: table,
      ...(query.customerId === undefined ? { IndexName: METRIC_INDEX } : {}),
      KeyConditionExpression: keyCondition,
      FilterExpression: filters.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: ascending,
    },
    startKey,
    // Only expired items fail the ttl filter; a severity or metric filter can drop most of what is read.
    readAhead: filters.length > 1 ? 4 : 1,
  }
}
