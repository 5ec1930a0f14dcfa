import type { ClickHouseClient } from '@clickhouse/client'
import type { Aggregation } from '../../domain/metrics.js'
import { ALL_CUSTOMERS, type CustomerRange, rangesFromBounds } from '../../domain/shard.js'
import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { SHAPE_SETTINGS } from '../../domain/signals/shape/shape-settings.js'
import { DAY_MS, HOUR_MS } from '../../domain/time.js'
import type { SeriesWindowReads, SeriesWindows } from '../../ports.js'
import { withStoreError } from './errors.js'
import { profileIndexSql, profilesStart, profileValues, profileViews } from './profile-layout.js'
import { readAhead } from './read-ahead.js'
import { RowBinaryReader, rowBinaryOf } from './row-binary.js'

/** The shape signal's largest baseline_weeks: a bounded scan and array. */
const MAX_SHAPE_WEEKS = SHAPE_SETTINGS.baselineWeeks.range.max

/** The recent window's largest baseline (DETECTOR_SETTINGS.recentHours' bound): a bounded scan and array. */
export const MAX_RECENT_HOURS = 720

/**
 * Per-day history of every series (customer x metric) for one slot S, from the hourly rollup: the aggregate of
 * the 24 h window ending k days before S and of the hour ending k days before S, for k = 0..K (0 = now; without the
 * hour window the last hour alone), plus
 * the series' first hour, and with `hours` > 0 the hours before S's last hour: `recent`[j - 1] is the hour
 * [S - (j + 1) h, S - j h), j = 1..hours ([] for a series without rows in them). Days and hours without rows are
 * real zeros. The statistics are the domain's (detector.ts).
 *
 * One scan of the rollup gives all three: each is a -Resample aggregate, a fixed array of numbers per series whose
 * rows each update one slot (a row whose key falls outside the array updates none). Measured against a conditional
 * aggregate per day (sumIf x 2 (K + 1)) plus a second scan for the recent hours as (index, value) pairs folded in
 * JS: half the CPU and no second pass over the same rows (bench/windows-variants.ts); the sumMap/maxMap states and
 * two-level GROUP BYs tried before measured 4-10x the memory. An hour still in several unmerged parts of the rollup
 * is folded by the aggregate itself. The array sizes are structure derived from validated integers, not values.
 */
/** One aggregation's series (its metrics in `{metrics_<aggregation>}`), before their first hour is joined. */
const branchSql = (
  aggregation: Aggregation,
  days: number,
  hours: number,
  hourWindow: boolean,
  shapeWeeks: number | null,
) => {
  const fn = aggregation === 'sum' ? 'sum' : 'max'
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  const byIndex = (index: string, from: number, to: number) =>
    `${fn}Resample(${from}, ${to}, 1)(${column}, ${index})`
  const recent =
    hours > 0
      ? `, if(countIf(h >= 1 AND h <= ${hours}) = 0, [], ${byIndex('h', 1, hours + 1)}) AS recent`
      : ''
  // The shape profiles (shapeWeeks: the shape signal's baseline weeks) from the same rows: shape-profiles.ts's
  // layout, [] for a series without usage in any of their windows.
  const slots = ((shapeWeeks ?? 0) + 1) * PROFILE_HOURS
  const profiles =
    shapeWeeks === null ? '' : `, if(countIf(si < ${slots}) = 0, [], ${byIndex('si', 0, slots)}) AS profiles`
  // Without the hour window only the current hour is wanted (the recent window's value): one conditional aggregate
  // instead of an array over every day (the default detector: ~15% of the query's CPU, bench/window-aggregates.ts).
  const byHour = hourWindow ? byIndex('hk', 0, days + 1) : `[${fn}If(${column}, h = 0)]`
  // The recent hours or the shape's weeks may reach further back than the days (a short baseline_days): those older
  // rows must not make a series appear that the days alone would not have.
  const older =
    Math.max(hours + 1, shapeWeeks === null ? 0 : shapeWeeks * 7 * 24 + 24) > (days + 1) * 24
      ? `HAVING countIf(k <= ${days}) > 0`
      : ''
  return `
    SELECT metric, customer_id, ${byIndex('k', 0, days + 1)} AS by_day, ${byHour} AS by_hour${recent}${profiles}
    FROM (
      SELECT metric, customer_id, ${column},
        {slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
        intDiv(age, ${DAY_MS}) AS k,
        -- the hour-of-day of the slot's last hour, k days back; other hours get an index past the array
        if(age % ${DAY_MS} < ${HOUR_MS}, k, 100000) AS hk,
        -- hours back from the slot's last hour (0)
        intDiv(age, ${HOUR_MS}) AS h${
          shapeWeeks === null
            ? ''
            : `,
        -- the shape profiles' index (profile-layout.ts), from the hours back
        ${profileIndexSql('h', 100000)} AS si`
        }
      FROM {db:Identifier}.usage_hourly
      WHERE metric IN {metrics_${aggregation}:Array(String)}
        AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
    )
    GROUP BY metric, customer_id
    ${older}`
}

/**
 * Both aggregations' series of a chunk in one query (UNION ALL): one round trip, one plan and one first-hour join per
 * chunk instead of one per aggregation (each window query has a fixed cost of ~15 ms on the embedded engine,
 * measured with chunks of 10 customers; 200 queries at 100k customers).
 */
const SQL = (
  aggregations: readonly Aggregation[],
  days: number,
  hours: number,
  hourWindow: boolean,
  shapeWeeks: number | null,
) => `
  SELECT metric, customer_id, first_ms, by_day, by_hour${hours > 0 ? ', recent' : ''}${shapeWeeks === null ? '' : ', profiles'}
  FROM (${aggregations.map((a) => branchSql(a, days, hours, hourWindow, shapeWeeks)).join('\n    UNION ALL')}
  ) AS a
  INNER JOIN (
    SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms
    FROM {db:Identifier}.usage_first_seen
    WHERE metric IN {metrics:Array(String)}
      AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})
    GROUP BY metric, customer_id
  ) AS f USING (metric, customer_id)`

/** The window query's columns as RowBinaryWithNamesAndTypes names them (`recent` only with recent hours). */
const COLUMNS = [
  ['metric', 'String'],
  ['customer_id', 'String'],
  ['first_ms', 'Int64'],
  ['by_day', 'Array(Float64)'],
  ['by_hour', 'Array(Float64)'],
  ['recent', 'Array(Float64)'],
  ['profiles', 'Array(Float64)'],
] as const

/**
 * Appends the series of one window query's reply to `out`. The header must name the expected columns and types
 * (a type that changed would otherwise be read as other bytes), and the rows must end where the reply does.
 */
function readWindowRows(
  bytes: Buffer,
  slotMs: number,
  days: number,
  recentHours: number,
  shapeWeeks: number | null,
  out: SeriesWindows[],
): void {
  const reader = new RowBinaryReader(bytes)
  const expected = [
    ...COLUMNS.slice(0, recentHours > 0 ? 6 : 5),
    ...(shapeWeeks === null ? [] : COLUMNS.slice(6)),
  ]
  reader.expectHeader(expected)
  // Every value of the reply in one typed array the series' arrays are views of: one allocation outside the JS heap
  // instead of three arrays per series that live through the chunk's judging and get copied by every young-generation
  // collection meanwhile. Each value took 8 bytes of the reply, so the reply's length bounds their number.
  const values = new Float64Array(Math.floor(bytes.length / 8))
  let used = 0
  const take = (maxLength: number): Float64Array => {
    const start = used
    used += reader.float64ArrayInto(values, used, maxLength)
    return values.subarray(start, used)
  }
  while (!reader.done) {
    const metric = reader.string()
    const customerId = reader.string()
    const firstHourMs = reader.int64()
    const daily = take(days + 1)
    const hourly = take(days + 1)
    const series: SeriesWindows = { customerId, metric, slot: slotMs, firstHourMs, daily, hourly }
    if (recentHours > 0) series.recent = take(recentHours)
    if (shapeWeeks !== null) series.profiles = profileViews(take(profileValues(shapeWeeks)), shapeWeeks)
    out.push(series)
  }
}

/**
 * Customers per query: bounds the memory of one query and of its result whatever the number of customers. A chunk's
 * result is held three times over for a moment (the engine's output, its copy in a JS buffer, the parsed rows);
 * measured at 100k customers (bench/job-profile.ts --chunk): 2,500 peaked at 892-949 MiB RSS, 1,000 at 682-706 MiB
 * in the same time (64 vs 71 s); 500 peaked at 659-662 MiB for the same CPU but 7-9% more wall time (twice the
 * queries, each waiting its turn on a loaded machine): METERFLOW_JOB_CUSTOMERS_PER_CHUNK=500 where memory is tight.
 */
export const CUSTOMERS_PER_CHUNK = 1_000
const EXTERNAL_GROUP_BY_BYTES = 50_000_000

/**
 * Every series of the customers in `shard` (default: all) in chunks of customer-id ranges (the table's sort key,
 * so each query reads only its range): ceil(customers / CUSTOMERS_PER_CHUNK) queries (both aggregations in one) plus
 * one for the range bounds, never one per customer. The chunks are cut inside the shard, so a shard's chunks are full-size
 * too.
 */
export async function* seriesWindowsForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  baselineDays: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk = CUSTOMERS_PER_CHUNK,
  shard: CustomerRange = ALL_CUSTOMERS,
  { recentHours = 0, hourWindow = true, shapeWeeks = null }: SeriesWindowReads = {},
): AsyncGenerator<SeriesWindows[]> {
  if (!Number.isSafeInteger(recentHours) || recentHours < 0 || recentHours > MAX_RECENT_HOURS) {
    throw new RangeError(`recent hours must be a whole number in 0..${MAX_RECENT_HOURS}, got ${recentHours}`)
  }
  if (
    shapeWeeks !== null &&
    !(Number.isSafeInteger(shapeWeeks) && shapeWeeks >= 0 && shapeWeeks <= MAX_SHAPE_WEEKS)
  ) {
    throw new RangeError(`shape weeks must be a whole number in 0..${MAX_SHAPE_WEEKS}, got ${shapeWeeks}`)
  }
  const lo = Math.min(
    slotMs - (baselineDays + 1) * DAY_MS,
    slotMs - (recentHours + 1) * HOUR_MS,
    shapeWeeks === null ? slotMs : profilesStart(slotMs, shapeWeeks),
  )
  const bounds = await chunkBounds(client, database, customersPerChunk, shard)
  const namesOf = (aggregation: Aggregation) =>
    metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name)
  const aggregations = (['sum', 'max'] as const).filter((a) => namesOf(a).length > 0)
  const query = `${SQL(aggregations, baselineDays, recentHours, hourWindow, shapeWeeks)}\nFORMAT RowBinaryWithNamesAndTypes`
  const readChunk = async (range: CustomerRange): Promise<SeriesWindows[]> => {
    const chunk: SeriesWindows[] = []
    if (aggregations.length === 0) return chunk
    const bytes = await withStoreError('compute detection statistics', () =>
      rowBinaryOf(client, {
        // Binary rows: the numbers cross as their 8 bytes, neither printed by the engine nor parsed here (at 100k
        // customers JSON.parse of the JSONCompactEachRow text took ~16 s of the run).
        query,
        query_params: {
          db: database,
          slot: slotMs,
          lo,
          metrics: metrics.map((m) => m.name),
          metrics_sum: namesOf('sum'),
          metrics_max: namesOf('max'),
          ...range,
        },
        clickhouse_settings: {
          // Spill the aggregation to disk past this size: memory stays flat however large a chunk's history.
          max_bytes_before_external_group_by: String(EXTERNAL_GROUP_BY_BYTES),
          // GROUP BY (metric, customer_id) is a prefix of the rollup's sort key: each series' rows arrive together,
          // so its states are finished one after another instead of in a hash table merged across threads
          // (10k customers: the queries' CPU 4.7-5.5 -> 3.5-3.9 s, bench/job-profile.ts --settings).
          optimize_aggregation_in_order: 1,
        },
      }),
    )
    await withStoreError('read detection statistics', async () =>
      readWindowRows(bytes, slotMs, baselineDays, recentHours, shapeWeeks, chunk),
    )
    return chunk
  }
  yield* readAhead(bounds, shard.to, readChunk)
}

/**
 * The customer ids with usage in [from, to) ('' = no upper bound), sorted, as one array that stays on the server:
 * only the bounds picked from it come back, whatever the number of customers.
 */
const SORTED_IDS = `SELECT arraySort(groupUniqArray(customer_id)) AS ids FROM {db:Identifier}.usage_first_seen
  WHERE customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})`

/**
 * Lower bounds of customer-id ranges of `size` customers each within `range`; the first is range.from (everything
 * from the range's start).
 */
export async function chunkBounds(
  client: ClickHouseClient,
  database: string,
  size: number,
  range: CustomerRange,
): Promise<string[]> {
  const rows = await withStoreError('split customers into chunks', async () => {
    const result = await client.query({
      query: `SELECT arrayFilter((id, i) -> i > 1 AND (i - 1) % {size:UInt32} = 0, ids, arrayEnumerate(ids))
        FROM (${SORTED_IDS})`,
      query_params: { db: database, size, from: range.from, to: range.to },
      format: 'JSONCompactEachRow',
    })
    return result.json<[string[]]>()
  })
  return [range.from, ...(rows[0]?.[0] ?? [])]
}

/**
 * At most `count` consecutive ranges of about equal numbers of customers (sizes differ by one at most), the first
 * from '', the last to '': ids that appear later fall in one of them. Range j > 0 starts at the id at 0-based
 * position floor(j x n / count); position p is such a start when ceil((p + 1) x count / n) > ceil(p x count / n)
 * (count > n: every id starts one). The test reads only the position and two numbers: a lambda that reads `ids`
 * itself gets a copy of it per element (measured: 1M ids into 1000 ranges asked for 25 GiB).
 */
export async function customerRangesOf(
  client: ClickHouseClient,
  database: string,
  count: number,
): Promise<CustomerRange[]> {
  const rows = await withStoreError('split customers into shards', async () => {
    const result = await client.query({
      query: `SELECT arrayFilter(
          (id, i) -> i > 1 AND intDiv(i * {count:UInt32} + n - 1, n) > intDiv((i - 1) * {count:UInt32} + n - 1, n),
          ids, arrayEnumerate(ids))
        FROM (SELECT ids, length(ids) AS n FROM (${SORTED_IDS}))`,
      query_params: { db: database, count, ...ALL_CUSTOMERS },
      format: 'JSONCompactEachRow',
    })
    return result.json<[string[]]>()
  })
  return rangesFromBounds(['', ...(rows[0]?.[0] ?? [])])
}
