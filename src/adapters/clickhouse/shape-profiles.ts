import type { ClickHouseClient } from '@clickhouse/client'
import { inRange } from '../../domain/limits.js'
import type { Aggregation } from '../../domain/metrics.js'
import { ALL_CUSTOMERS, type CustomerRange, isSingleCustomer } from '../../domain/shard.js'
import { PROFILE_HOURS } from '../../domain/signals/shape/profile.js'
import { SHAPE_SETTINGS } from '../../domain/signals/shape/shape-settings.js'
import { HOUR_MS } from '../../domain/time.js'
import { ValidationError } from '../../errors.js'
import type { ProfileChunk, SeriesProfiles } from '../../ports.js'
import { withStoreError } from './errors.js'
import { profileHourFilter, profileIndexSql, profilesStart, readProfiles } from './profile-layout.js'
import { readAhead } from './read-ahead.js'
import { RowBinaryError, RowBinaryReader, rowBinaryOf } from './row-binary.js'
import { CUSTOMERS_PER_CHUNK, chunkBounds } from './series-windows.js'

/**
 * The 24-hour profiles of every series for slot S from the hourly rollup, in profile-layout.ts's layout; rows outside
 * every window are left out before the aggregation. The job reads the same profiles in its windows' scan
 * (series-windows.ts); this query serves the check and an index that reads them itself (Redis).
 *
 * One scan, one -Resample array per series: each row updates its hour's slot, so an hour still in several unmerged
 * parts of the rollup is folded by the aggregate itself and hours without rows stay 0. Measured against grouping by
 * hour first and placing the hours with groupArrayInsertAt (the read before issue 14, kept as the tests' reference
 * in test/insert-at-profiles.ts): 10k customers, the queries' CPU 5.0 -> 1.3-1.4 s and half the result
 * (bench/shape-variants.ts). The array size is structure derived from the validated integer K, not a value.
 */
/** A chunk's customers: a range of ids (the job's chunks), or a list (checks read together, `customersProfiles`). */
const CUSTOMER_RANGE = `customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})`
const CUSTOMER_LIST = 'customer_id IN {customers:Array(String)}'

const SQL = (aggregation: Aggregation, weeks: number, customers = CUSTOMER_RANGE) => {
  const fn = aggregation === 'sum' ? 'sum' : 'max'
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  return `
  SELECT metric, customer_id, ${fn}Resample(0, ${(weeks + 1) * PROFILE_HOURS}, 1)(${column}, i) AS profiles
  FROM (
    SELECT metric, customer_id, ${column},
      -- hours back from the slot's last hour (0); the rollup's hours are whole
      intDiv({slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000, ${HOUR_MS}) AS h,
      ${profileIndexSql('h')} AS i
    FROM {db:Identifier}.usage_hourly
    WHERE metric IN {metrics:Array(String)} AND ${customers}
      AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      AND ${profileHourFilter('h')}
  )
  GROUP BY metric, customer_id
  FORMAT RowBinaryWithNamesAndTypes`
}

/** The profile query's columns as RowBinaryWithNamesAndTypes names them. */
const COLUMNS = [
  ['metric', 'String'],
  ['customer_id', 'String'],
  ['profiles', 'Array(Float64)'],
] as const

/** Appends the series of one profile query's reply to `out`: the expected header, then rows to the reply's end. */
function readProfileRows(bytes: Buffer, slotMs: number, weeks: number, out: SeriesProfiles[]): void {
  const reader = new RowBinaryReader(bytes)
  reader.expectHeader(COLUMNS)
  while (!reader.done) {
    const metric = reader.string()
    const customerId = reader.string()
    const profiles = readProfiles(reader, weeks)
    if (profiles === null) throw new RowBinaryError(`no profiles for ${customerId}/${metric}`)
    out.push({ customerId, metric, slot: slotMs, ...profiles })
  }
}

/**
 * Every series of the customers in `shard` with usage in any of the windows, in chunks of consecutive customer-id
 * ranges in order (each chunk names its range): one query per chunk and aggregation (plus one for the chunk bounds),
 * never one per customer. One customer (the on-demand check) is one chunk: no bounds query. The next chunk's
 * queries run in the engine while the caller takes this one (as the volume windows do, series-windows.ts), so
 * memory holds two chunks at most.
 */
export async function* shapeProfilesForSlot(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  weeks: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customersPerChunk = CUSTOMERS_PER_CHUNK,
  shard: CustomerRange = ALL_CUSTOMERS,
): AsyncGenerator<ProfileChunk> {
  checkProfileRequest(slotMs, weeks)
  const bounds = isSingleCustomer(shard)
    ? [shard.from]
    : await chunkBounds(client, database, customersPerChunk, shard)
  const readChunk = async (range: CustomerRange): Promise<ProfileChunk> => ({
    range,
    profiles: await queryProfiles(client, database, slotMs, weeks, metrics, CUSTOMER_RANGE, { ...range }),
  })
  yield* readAhead(bounds, shard.to, readChunk)
}

/** One query per aggregation over the metrics and the customers `customers` selects (with `params`). */
async function queryProfiles(
  client: ClickHouseClient,
  database: string,
  slotMs: number,
  weeks: number,
  metrics: readonly { name: string; aggregation: Aggregation }[],
  customers: string,
  params: Record<string, unknown>,
): Promise<SeriesProfiles[]> {
  const profiles: SeriesProfiles[] = []
  for (const aggregation of ['sum', 'max'] as const) {
    const names = [...new Set(metrics.filter((m) => m.aggregation === aggregation).map((m) => m.name))]
    if (names.length === 0) continue
    const bytes = await withStoreError('compute usage profiles', () =>
      rowBinaryOf(client, {
        query: SQL(aggregation, weeks, customers),
        query_params: {
          db: database,
          slot: slotMs,
          lo: profilesStart(slotMs, weeks),
          metrics: names,
          ...params,
        },
        // GROUP BY (metric, customer_id) is a prefix of the rollup's sort key: each series' rows arrive together.
        clickhouse_settings: { optimize_aggregation_in_order: 1 },
      }),
    )
    await withStoreError('read usage profiles', async () => readProfileRows(bytes, slotMs, weeks, profiles))
  }
  return profiles
}

/** One customer's profiles for one slot: the check's read, which the store batches with others (usage-store.ts). */
export interface CustomerProfilesRequest {
  slotMs: number
  weeks: number
  metrics: readonly { name: string; aggregation: Aggregation }[]
  customerId: string
}

/** Requests of one slot and number of weeks share a query. */
export const sameProfileWindows = () => {
  let first: CustomerProfilesRequest | null = null
  return (request: CustomerProfilesRequest): boolean => {
    first ??= request
    return request.slotMs === first.slotMs && request.weeks === first.weeks
  }
}

/**
 * The profiles of several customers' requests (of one slot and number of weeks, each valid: checkProfileRequest) in
 * one query per aggregation over all their customers and metrics; each request gets its own customer's series of
 * its own metrics, exactly what a one-customer chunk of shapeProfilesForSlot reads (the same rows, aggregated the
 * same way per series).
 */
export async function customersProfiles(
  client: ClickHouseClient,
  database: string,
  requests: readonly CustomerProfilesRequest[],
): Promise<SeriesProfiles[][]> {
  const first = requests[0]
  if (!first) return []
  if (requests.some((r) => r.slotMs !== first.slotMs || r.weeks !== first.weeks))
    throw new RangeError('profile requests of different slots or weeks in one batch')
  const customers = [...new Set(requests.map((r) => r.customerId))]
  const profiles = await queryProfiles(
    client,
    database,
    first.slotMs,
    first.weeks,
    requests.flatMap((r) => r.metrics),
    CUSTOMER_LIST,
    { customers },
  )
  return requests.map((r) => {
    const wanted = new Map(r.metrics.map((m) => [m.name, m.aggregation]))
    return profiles.filter((p) => p.customerId === r.customerId && wanted.has(p.metric))
  })
}

export function checkProfileRequest(slotMs: number, weeks: number): void {
  // 0 weeks is the window alone (the Redis shape index reads the recent days so).
  const range = { ...SHAPE_SETTINGS.baselineWeeks.range, min: 0 }
  if (!inRange(weeks, range)) {
    const reason = `must be an integer in ${range.min}..${range.max}, got ${String(weeks)}`
    throw new ValidationError(`invalid number of baseline weeks: ${reason}`, [{ field: 'weeks', reason }])
  }
  if (!Number.isSafeInteger(slotMs) || slotMs % HOUR_MS !== 0) {
    const reason = `must be a whole hour in epoch ms, got ${String(slotMs)}`
    throw new ValidationError(`invalid slot: ${reason}`, [{ field: 'slot', reason }])
  }
}
