import type { ClickHouseClient } from '@clickhouse/client'
import { isHourAligned } from '../../domain/time.js'
import { ValidationError } from '../../errors.js'
import type { WindowHistory, WindowHistoryRequest } from '../../ports.js'
import { withStoreError } from './errors.js'
import { seriesKey } from './history-cache.js'
import { RowBinaryError, RowBinaryReader, rowBinaryOf } from './row-binary.js'

/**
 * Window histories (the window [end - length, end) and its shifts by k steps, k = 0..count, with the series' first
 * hour) of one or more requests, one query per kind of window: the check's read, several checks at once.
 *
 * The engine's cost here is planning and setting up reads, not reading (a 31-day series is ~744 rollup rows; on the
 * bench's data a query over one series costs ~8-9 ms of CPU whether it reads 1 or 10 series' rows): so the
 * requests that wait together share one query (query-batch.ts), whose rows are folded into each request's
 * windows here. Every row carries 8 columns, read as RowBinary (no text printed or parsed):
 * - a rollup hour (mi, ci = the series' positions in the query's metric and customer lists, r = 0, t = the hour's
 *   start in seconds), folded here as before: a time `age` ms before a window's end belongs to shift
 *   k = age / step when age % step < length (step >= length, so the shifts do not overlap), added in the order the
 *   rows come, as the one-query read did;
 * - a first-seen row (first = 1, t = its first hour in seconds): the series' first hour is the least of them;
 * - a raw-events shift (r = the request's position, 1-based, t = k): windows that do not start and end on the
 *   hour cannot be answered by the rollup, so raw events are added up in the engine, as before (a series may hold
 *   far more events than hours).
 */
const COLUMNS = `mi Int64, ci Int64, r Int64, t Int64, s Float64, m Float64, c Int64, first UInt8`
const EXPECTED = COLUMNS.split(', ').map((c) => c.split(' ') as [string, string])

const FIRST_SEEN = (where: string, mi: string, ci: string) => `
  SELECT ${mi}, ${ci}, toInt64(0), toInt64(toUnixTimestamp(first_hour)), toFloat64(0), toFloat64(0), toInt64(0), toUInt8(1)
  FROM {db:Identifier}.usage_first_seen WHERE ${where}`

/** The first-seen rows of the series metrics x customers. */
const FIRST_SEEN_OF_ALL = FIRST_SEEN(
  'metric IN {metrics:Array(String)} AND customer_id IN {customers:Array(String)}',
  'toInt64(indexOf({metrics:Array(String)}, metric))',
  'toInt64(indexOf({customers:Array(String)}, customer_id))',
)

/** A rollup hour's row (r = 0) of the series the condition `where` selects, `mi` and `ci` its positions. */
const ROLLUP_ROWS = (where: string, mi: string, ci: string) => `
  SELECT ${mi} AS mi, ${ci} AS ci,
    toInt64(0) AS r, toInt64(toUnixTimestamp(hour)) AS t, toFloat64(sum_value) AS s, toFloat64(max_value) AS m, toInt64(events) AS c, toUInt8(0) AS first
  FROM {db:Identifier}.usage_hourly
  WHERE ${where}
    AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({end:Int64}, 1000), 'UTC')`

/**
 * Every rollup hour in [lo, end) of the series metrics x customers (a superset of the series asked for when
 * requests differ in both; the rows of others are skipped here), and their first-seen rows.
 */
const ROLLUP_MANY = (firstSeen: boolean) => `${ROLLUP_ROWS(
  'metric IN {metrics:Array(String)} AND customer_id IN {customers:Array(String)}',
  'toInt64(indexOf({metrics:Array(String)}, metric))',
  'toInt64(indexOf({customers:Array(String)}, customer_id))',
)}
  ${firstSeen ? `UNION ALL ${FIRST_SEEN_OF_ALL}` : ''}`

/**
 * One request's rollup hours (a check that waits alone, the common case): the series by equality, without the
 * arrays and indexOf of the batched form (measured on the bench's data: ~12% less time per query).
 */
const ONE_SERIES = 'metric = {metric:String} AND customer_id = {customer:String}'
const ROLLUP_ONE = (firstSeen: boolean) => `${ROLLUP_ROWS(ONE_SERIES, 'toInt64(1)', 'toInt64(1)')}
  ${firstSeen ? `UNION ALL ${FIRST_SEEN(ONE_SERIES, 'toInt64(1)', 'toInt64(1)')}` : ''}`

/** One request's raw shifts (t = k): the shape of the query before batching, for a request that waits alone. */
const RAW_ONE = (firstSeen: boolean) => `
  SELECT toInt64(0) AS mi, toInt64(0) AS ci, toInt64(1) AS r,
    intDiv({end:Int64} - 1 - toUnixTimestamp64Milli(ts), {step:Int64}) AS t,
    sum(value) AS s, max(value) AS m, toInt64(count()) AS c, toUInt8(0) AS first
  FROM {db:Identifier}.usage_events
  WHERE metric = {metric:String} AND customer_id = {customer:String}
    AND ts >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({end:Int64}, 'UTC')
    AND ({end:Int64} - 1 - toUnixTimestamp64Milli(ts)) % {step:Int64} < {length:Int64}
  GROUP BY t
  ${firstSeen ? `UNION ALL ${FIRST_SEEN(ONE_SERIES, 'toInt64(1)', 'toInt64(1)')}` : ''}`

/**
 * Several requests' raw shifts: each event counts for every request of its series whose window shifts hold it
 * (the same conditions as RAW_ONE's, per request), added up per request and shift.
 */
const RAW_MANY = (firstSeen: boolean) => `
  SELECT toInt64(0) AS mi, toInt64(0) AS ci, toInt64(q) AS r,
    intDiv({ends:Array(Int64)}[q] - 1 - at, {steps:Array(Int64)}[q]) AS t,
    sum(value) AS s, max(value) AS m, toInt64(count()) AS c, toUInt8(0) AS first
  FROM (
    SELECT metric, customer_id, toUnixTimestamp64Milli(ts) AS at, value
    FROM {db:Identifier}.usage_events
    WHERE metric IN {metrics:Array(String)} AND customer_id IN {customers:Array(String)}
      AND ts >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({end:Int64}, 'UTC')
  )
  ARRAY JOIN arrayFilter(
    i -> {request_metrics:Array(String)}[i] = metric AND {request_customers:Array(String)}[i] = customer_id
      AND at >= {los:Array(Int64)}[i] AND at < {ends:Array(Int64)}[i]
      AND ({ends:Array(Int64)}[i] - 1 - at) % {steps:Array(Int64)}[i] < {lengths:Array(Int64)}[i],
    range(1, length({ends:Array(Int64)}) + 1)) AS q
  GROUP BY q, t
  ${firstSeen ? `UNION ALL ${FIRST_SEEN_OF_ALL}` : ''}`

/** A request no read can answer: a ValidationError naming the window. */
export function checkWindowHistoryRequest(request: WindowHistoryRequest): void {
  const { window, stepMs, count } = request
  const length = window.endMs - window.startMs
  if (!(length > 0 && stepMs >= length && Number.isSafeInteger(count) && count >= 0)) {
    const reason = `needs a non-empty window, a step at least its length and a whole count, got ${length} ms, step ${stepMs}, count ${count}`
    throw new ValidationError(`invalid window history: ${reason}`, [{ field: 'window', reason }])
  }
}

/** Windows on the hour (start, end and step): answered from the hourly rollup; others from raw events. */
export function onTheHour(request: WindowHistoryRequest): boolean {
  return (
    isHourAligned(request.window.startMs) &&
    isHourAligned(request.window.endMs) &&
    isHourAligned(request.stepMs)
  )
}

/** The oldest time a request's windows reach. */
export function historyStart(request: WindowHistoryRequest): number {
  const length = request.window.endMs - request.window.startMs
  return request.window.endMs - length - request.count * request.stepMs
}

/**
 * The histories of `requests` (each valid, checkWindowHistoryRequest), in their order: one query for those on the
 * hour and one for the others (none for a kind without requests).
 */
export async function readWindowHistories(
  client: ClickHouseClient,
  database: string,
  requests: readonly WindowHistoryRequest[],
  firstHours: FirstHours | null = null,
): Promise<WindowHistory[]> {
  const folds = requests.map((request) => new Fold(request))
  const rollup = folds.filter((f) => onTheHour(f.request))
  const raw = folds.filter((f) => !onTheHour(f.request))
  const read = { client, database, firstHours }
  await Promise.all([
    rollup.length > 0 ? query(read, rollup.length === 1 ? 'rollup one' : 'rollup many', rollup) : null,
    raw.length > 0 ? query(read, raw.length === 1 ? 'raw one' : 'raw many', raw) : null,
  ])
  return folds.map((f) => f.history())
}

/**
 * Series' first hours kept between reads (the embedded engine's HistoryCache): a query whose series all have one
 * kept leaves out the first-seen table (a second table read, ~1/3 of the query's cost), else it reads them and
 * offers them to keep.
 */
export interface FirstHours {
  firstHour(series: string): number | null | undefined
  firstHoursRead(): (series: string, firstHourMs: number | null) => void
}

const SQL = {
  'rollup one': ROLLUP_ONE,
  'rollup many': ROLLUP_MANY,
  'raw one': RAW_ONE,
  'raw many': RAW_MANY,
} as const

/** One request's windows as its rows come. */
class Fold {
  readonly lo: number
  readonly length: number
  private readonly totals: number[]
  private readonly peaks: number[]
  private readonly events: number[]
  private first: number | null = null
  readonly series: string

  constructor(readonly request: WindowHistoryRequest) {
    this.series = seriesKey(request)
    this.lo = historyStart(request)
    this.length = request.window.endMs - request.window.startMs
    this.totals = new Array<number>(request.count + 1).fill(0)
    this.peaks = new Array<number>(request.count + 1).fill(Number.NEGATIVE_INFINITY)
    this.events = new Array<number>(request.count + 1).fill(0)
  }

  get firstEventHourMs(): number | null {
    return this.first
  }

  firstHour(ms: number): void {
    if (this.first === null || ms < this.first) this.first = ms
  }

  /** A rollup hour starting at `hourMs`: in one of the windows, or not this request's. */
  hour(hourMs: number, s: number, m: number, c: number): void {
    const { endMs } = this.request.window
    if (hourMs < this.lo || hourMs >= endMs) return
    const age = endMs - 1 - hourMs
    if (age % this.request.stepMs >= this.length) return
    this.add(Math.floor(age / this.request.stepMs), s, m, c)
  }

  /** Shift k's raw events, added up by the engine. */
  add(k: number, s: number, m: number, c: number): void {
    if (!(k >= 0 && k <= this.request.count)) throw new RowBinaryError(`a window shift ${k} out of range`)
    this.totals[k] = (this.totals[k] ?? 0) + s
    this.peaks[k] = Math.max(this.peaks[k] ?? Number.NEGATIVE_INFINITY, m)
    this.events[k] = (this.events[k] ?? 0) + c
  }

  history(): WindowHistory {
    const sum = this.request.aggregation === 'sum'
    const aggregates = this.events.map((n, k) =>
      n === 0 ? { value: 0, events: 0 } : { value: (sum ? this.totals[k] : this.peaks[k]) ?? 0, events: n },
    )
    return { firstEventHourMs: this.first, aggregates }
  }
}

async function query(
  {
    client,
    database,
    firstHours,
  }: { client: ClickHouseClient; database: string; firstHours: FirstHours | null },
  kind: keyof typeof SQL,
  folds: Fold[],
): Promise<void> {
  const raw = kind === 'raw one' || kind === 'raw many'
  const kept = firstHours ? folds.map((f) => firstHours.firstHour(f.series)) : []
  const firstSeen = !firstHours || kept.some((k) => k === undefined)
  const keep = firstSeen ? firstHours?.firstHoursRead() : undefined
  if (!firstSeen) {
    for (const [i, f] of folds.entries()) {
      const ms = kept[i]
      if (ms !== null && ms !== undefined) f.firstHour(ms)
    }
  }
  const metrics = [...new Set(folds.map((f) => f.request.metric))]
  const customers = [...new Set(folds.map((f) => f.request.customerId))]
  // The requests of each series, by its (metric, customer) positions (1-based, as indexOf gives them).
  const bySeries = new Map<number, Fold[]>()
  const seriesOf = (mi: number, ci: number) => mi * (customers.length + 1) + ci
  for (const f of folds) {
    const key = seriesOf(metrics.indexOf(f.request.metric) + 1, customers.indexOf(f.request.customerId) + 1)
    bySeries.set(key, [...(bySeries.get(key) ?? []), f])
  }
  const one = folds[0] as Fold
  const oneSeries = {
    metric: one.request.metric,
    customer: one.request.customerId,
    lo: one.lo,
    end: one.request.window.endMs,
  }
  const params =
    kind === 'rollup one'
      ? oneSeries
      : kind === 'raw one'
        ? { ...oneSeries, step: one.request.stepMs, length: one.length }
        : {
            metrics,
            customers,
            lo: Math.min(...folds.map((f) => f.lo)),
            end: Math.max(...folds.map((f) => f.request.window.endMs)),
            ...(raw
              ? {
                  request_metrics: folds.map((f) => f.request.metric),
                  request_customers: folds.map((f) => f.request.customerId),
                  los: folds.map((f) => f.lo),
                  ends: folds.map((f) => f.request.window.endMs),
                  steps: folds.map((f) => f.request.stepMs),
                  lengths: folds.map((f) => f.length),
                }
              : {}),
          }
  const bytes = await withStoreError('aggregate usage windows', () =>
    rowBinaryOf(client, {
      query: `${SQL[kind](firstSeen)}\nFORMAT RowBinaryWithNamesAndTypes`,
      query_params: { db: database, ...params },
    }),
  )
  await withStoreError('read usage windows', async () => {
    const reader = new RowBinaryReader(bytes)
    const header = reader.header()
    if (
      header.length !== EXPECTED.length ||
      header.some((c, i) => c.name !== EXPECTED[i]?.[0] || c.type !== EXPECTED[i]?.[1])
    ) {
      throw new RowBinaryError(`unexpected columns ${header.map((c) => `${c.name} ${c.type}`).join(', ')}`)
    }
    while (!reader.done) {
      const mi = reader.int64()
      const ci = reader.int64()
      const r = reader.int64()
      const t = reader.int64()
      const s = reader.float64()
      const m = reader.float64()
      const c = reader.int64()
      if (reader.uint8() === 1) {
        for (const f of bySeries.get(seriesOf(mi, ci)) ?? []) f.firstHour(t * 1000)
      } else if (r > 0) {
        const f = folds[r - 1]
        if (!f) throw new RowBinaryError(`a row of request ${r}, of ${folds.length}`)
        f.add(t, s, m, c)
      } else {
        for (const f of bySeries.get(seriesOf(mi, ci)) ?? []) f.hour(t * 1000, s, m, c)
      }
    }
  })
  if (keep) for (const f of folds) keep(f.series, f.firstEventHourMs)
}
