import type { AnomalyQuery, AnomalyRecord, Page } from '../domain/anomaly.js'
import { DEFAULT_ANOMALY_SORT, isAscendingTimeSort } from '../domain/list-sorts.js'
import { ValidationError } from '../errors.js'
import type { AnomalyStore } from '../ports.js'

interface SortKey {
  t: number
  m: string
  c: string
  /** The signal kind. */
  k: string
  /** The order (absent: newest first). */
  s?: string
}

/** Newest (or oldest) first; ties by metric, then customer, then signal kind. */
function comparer(ascending: boolean) {
  return (a: AnomalyRecord, b: AnomalyRecord): number =>
    (ascending ? a.detectedAt - b.detectedAt : b.detectedAt - a.detectedAt) ||
    a.metric.localeCompare(b.metric) ||
    a.customerId.localeCompare(b.customerId) ||
    a.kind.localeCompare(b.kind)
}

function isAfter(item: AnomalyRecord, key: SortKey | null, ascending: boolean): boolean {
  if (!key) return true
  if (item.detectedAt !== key.t) return ascending ? item.detectedAt > key.t : item.detectedAt < key.t
  if (item.metric !== key.m) return item.metric > key.m
  if (item.customerId !== key.c) return item.customerId > key.c
  return item.kind > key.k
}

/**
 * Lists anomalies in the query's order. A store that lists across metrics (SQLite) answers every query; the others
 * answer by customer (the table key) or by metric (the seed's GSI), so a query with neither asks every metric and
 * merges, in a time order only (the store refuses the others). Its cursor is the last item's sort key.
 */
export async function queryAnomalies(
  store: AnomalyStore,
  metricNames: readonly string[],
  query: AnomalyQuery,
): Promise<Page<AnomalyRecord>> {
  if (store.listsAcrossMetrics || query.customerId !== undefined || query.metric !== undefined)
    return store.queryAnomalies(query)
  const sort = query.sort ?? DEFAULT_ANOMALY_SORT
  const ascending = isAscendingTimeSort(sort)
  const compare = comparer(ascending)
  const after = decodeKey(query.cursor, sort)
  const until =
    after && !ascending ? Math.min(query.until ?? Number.POSITIVE_INFINITY, after.t + 1) : query.until
  const since = after && ascending ? Math.max(query.since ?? 0, after.t) : query.since
  const collected: AnomalyRecord[] = []
  let more = false
  for (const metric of metricNames) {
    const found: AnomalyRecord[] = []
    let cursor: string | undefined
    // The time farthest into the order read so far.
    let lastRead = ascending ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    // Stores order by time only (the seed's GSI sorts by detected_at alone), so read on until every record
    // sharing the time of the limit-th one has been seen; then sort here.
    const enough = () => {
      if (found.length < query.limit) return false
      found.sort(compare)
      const limitTh = (found[query.limit - 1] as AnomalyRecord).detectedAt
      return ascending ? lastRead > limitTh : lastRead < limitTh
    }
    do {
      const page = await store.queryAnomalies({
        ...query,
        metric,
        since,
        until: until === Number.POSITIVE_INFINITY ? undefined : until,
        cursor,
      })
      for (const item of page.items)
        lastRead = ascending ? Math.max(lastRead, item.detectedAt) : Math.min(lastRead, item.detectedAt)
      found.push(...page.items.filter((item) => isAfter(item, after, ascending)))
      cursor = page.nextCursor ?? undefined
    } while (cursor && !enough())
    found.sort(compare)
    if (cursor || found.length > query.limit) more = true
    collected.push(...found.slice(0, query.limit))
  }
  collected.sort(compare)
  const items = collected.slice(0, query.limit)
  more ||= collected.length > items.length
  const last = items[items.length - 1]
  return {
    items,
    nextCursor:
      more && last
        ? encodeKey({
            t: last.detectedAt,
            m: last.metric,
            c: last.customerId,
            k: last.kind,
            ...(sort === DEFAULT_ANOMALY_SORT ? {} : { s: sort }),
          })
        : null,
  }
}

function encodeKey(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

function decodeKey(cursor: string | undefined, sort: string): SortKey | null {
  if (!cursor) return null
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as SortKey
    if (
      typeof key.t === 'number' &&
      typeof key.m === 'string' &&
      typeof key.c === 'string' &&
      typeof key.k === 'string' &&
      (key.s ?? DEFAULT_ANOMALY_SORT) === sort
    )
      return key
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('invalid cursor', [
    { field: 'cursor', reason: 'is not a cursor this API returned' },
  ])
}
