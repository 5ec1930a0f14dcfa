// Ways to read every series' shape profiles of one slot, measured on the job bench's data (issue 14, goal 6):
//   npx tsx bench/job-profile.ts --data-dir /tmp/mf-prof --customers 10000 --generate            (once)
//   npx tsx bench/shape-variants.ts --data-dir /tmp/mf-prof --customers 10000 --variant <name>   (one process each)
// Variants, each over all chunks of 1,000 customers, sum then max metrics, the rows parsed as the job would:
// `insert-at` (GROUP BY hour, then groupArrayInsertAt, as JSON: the read before issue 14), `resample` (one
// -Resample array per series, RowBinary), `volume` (the volume windows' query alone, for scale) and `both` (the
// volume query with the profiles' -Resample array added: one scan for both signals).
import { parseArgs } from 'node:util'
import type { ClickHouseClient } from '@clickhouse/client'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { RowBinaryReader, rowBinaryOf } from '../src/adapters/clickhouse/row-binary.js'
import { CUSTOMERS_PER_CHUNK, chunkBounds } from '../src/adapters/clickhouse/series-windows.js'
import { loadConfig } from '../src/config.js'
import type { Aggregation } from '../src/domain/metrics.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    customers: { type: 'string', default: '10000' },
    variant: { type: 'string', default: 'resample' },
    weeks: { type: 'string', default: '4' },
    chunks: { type: 'string', default: '0' },
  },
})
const VARIANTS = ['insert-at', 'resample', 'prewhere', 'volume', 'both'] as const
type Variant = (typeof VARIANTS)[number]
const variant = values.variant as Variant
if (!VARIANTS.includes(variant)) throw new Error(`variant: one of ${VARIANTS.join(', ')}`)
const database = `bench_job_${values.customers}`
const slot = Date.UTC(2026, 10, 1)
const days = 30
const weeks = Number(values.weeks)
const WEEK_MS = 7 * DAY_MS
const slots = (weeks + 1) * 24

const RANGE = `metric IN {metrics:Array(String)}
  AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})`

const insertAtSql = (aggregation: Aggregation) => `
  SELECT metric, customer_id,
    groupArrayInsertAt(0, ${slots})(value, toUInt32(k * 24 + idx)) AS profiles
  FROM (
    SELECT metric, customer_id, value,
      {slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
      intDiv(age, ${WEEK_MS}) AS k,
      23 - intDiv(age % ${WEEK_MS}, ${HOUR_MS}) AS idx
    FROM (
      SELECT metric, customer_id, hour, ${aggregation === 'sum' ? 'sum(sum_value)' : 'max(max_value)'} AS value
      FROM {db:Identifier}.usage_hourly
      WHERE ${RANGE}
        AND hour >= toDateTime(intDiv({plo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      GROUP BY metric, customer_id, hour
    )
    WHERE age % ${WEEK_MS} < ${DAY_MS}
  )
  GROUP BY metric, customer_id`

const column = (aggregation: Aggregation) => (aggregation === 'sum' ? 'sum_value' : 'max_value')
const fn = (aggregation: Aggregation) => (aggregation === 'sum' ? 'sum' : 'max')

const resampleSql = (aggregation: Aggregation) => `
  SELECT metric, customer_id, ${fn(aggregation)}Resample(0, ${slots}, 1)(${column(aggregation)}, i) AS profiles
  FROM (
    SELECT metric, customer_id, ${column(aggregation)},
      {slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
      intDiv(age, ${WEEK_MS}) * 24 + 23 - intDiv(age % ${WEEK_MS}, ${HOUR_MS}) AS i
    FROM {db:Identifier}.usage_hourly
    WHERE ${RANGE}
      AND hour >= toDateTime(intDiv({plo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      AND age % ${WEEK_MS} < ${DAY_MS}
  )
  GROUP BY metric, customer_id`

// The same with the hour filters as PREWHERE: only the windows' rows of the other columns are read past the filter.
const prewhereSql = (aggregation: Aggregation) => `
  SELECT metric, customer_id, ${fn(aggregation)}Resample(0, ${slots}, 1)(${column(aggregation)}, i) AS profiles
  FROM (
    SELECT metric, customer_id, ${column(aggregation)},
      {slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
      intDiv(age, ${WEEK_MS}) * 24 + 23 - intDiv(age % ${WEEK_MS}, ${HOUR_MS}) AS i
    FROM {db:Identifier}.usage_hourly
    PREWHERE hour >= toDateTime(intDiv({plo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
      AND ({slot:Int64} - ${HOUR_MS} - toInt64(toUnixTimestamp(hour)) * 1000) % ${WEEK_MS} < ${DAY_MS}
    WHERE ${RANGE}
  )
  GROUP BY metric, customer_id`

const volumeSql = (aggregation: Aggregation, withShape: boolean) => {
  const res = (index: string, from: number, to: number) =>
    `${fn(aggregation)}Resample(${from}, ${to}, 1)(${column(aggregation)}, ${index})`
  const shape = withShape ? `, ${res('si', 0, slots)} AS profiles, countIf(si < ${slots}) AS in_shape` : ''
  return `
  SELECT metric, customer_id, first_ms, by_day, by_hour${withShape ? ', profiles, in_shape' : ''}
  FROM (
    SELECT metric, customer_id, ${res('k', 0, days + 1)} AS by_day, ${res('hk', 0, days + 1)} AS by_hour${shape}
    FROM (
      SELECT metric, customer_id, ${column(aggregation)},
        {slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
        intDiv(age, ${DAY_MS}) AS k,
        if(age % ${DAY_MS} < ${HOUR_MS}, k, 100000) AS hk,
        if(age % ${WEEK_MS} < ${DAY_MS} AND age < ${(weeks + 1) * WEEK_MS},
          intDiv(age, ${WEEK_MS}) * 24 + 23 - intDiv(age % ${WEEK_MS}, ${HOUR_MS}), 100000) AS si
      FROM {db:Identifier}.usage_hourly
      WHERE ${RANGE}
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
    )
    GROUP BY metric, customer_id
  ) AS a
  INNER JOIN (
    SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms
    FROM {db:Identifier}.usage_first_seen WHERE ${RANGE} GROUP BY metric, customer_id
  ) AS f USING (metric, customer_id)`
}

const config = loadConfig(
  {},
  { dataDir: values['data-dir'] as string, logLevel: 'warn', demo: { enabled: false } },
)
const client: ClickHouseClient = await createClickHouseClient(config)
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
let engineMs = 0
let engineCpuMs = 0
let resultBytes = 0
let series = 0
let checksum = 0
const settings = { max_bytes_before_external_group_by: '50000000', optimize_aggregation_in_order: 1 as const }
const timed = async <T>(read: () => Promise<T>, size: (t: T) => number): Promise<T> => {
  const started = performance.now()
  const cpuStarted = cpu()
  const out = await read()
  engineMs += performance.now() - started
  engineCpuMs += cpu() - cpuStarted
  resultBytes += size(out)
  return out
}
const started = performance.now()
const cpuStarted = cpu()
const metrics = { sum: ['api_calls', 'bandwidth', 'compute_time'], max: ['storage_peak'] }
const bounds = await chunkBounds(client, database, CUSTOMERS_PER_CHUNK, { from: '', to: '' })
const chunkCount = Number(values.chunks) > 0 ? Math.min(Number(values.chunks), bounds.length) : bounds.length
for (let i = 0; i < chunkCount; i++) {
  const range = { from: bounds[i] as string, to: bounds[i + 1] ?? '' }
  for (const aggregation of ['sum', 'max'] as const) {
    const params = {
      db: database,
      slot,
      lo: slot - (days + 1) * DAY_MS,
      plo: slot - weeks * WEEK_MS - DAY_MS,
      metrics: metrics[aggregation],
      ...range,
    }
    if (variant === 'insert-at') {
      const text = await timed(
        async () =>
          (
            await client.query({
              query: insertAtSql(aggregation),
              query_params: params,
              format: 'JSONCompactEachRow',
              clickhouse_settings: settings,
            })
          ).text(),
        (t) => t.length,
      )
      for (const line of text.split('\n')) {
        if (line.length === 0) continue
        const [, , flat] = JSON.parse(line) as [string, string, number[]]
        series++
        checksum += Number(flat[0]) + Number(flat[flat.length - 1])
      }
      continue
    }
    const sql =
      variant === 'resample'
        ? resampleSql(aggregation)
        : variant === 'prewhere'
          ? prewhereSql(aggregation)
          : volumeSql(aggregation, variant === 'both')
    const bytes = await timed(
      () =>
        rowBinaryOf(client, {
          query: `${sql}\nFORMAT RowBinaryWithNamesAndTypes`,
          query_params: params,
          clickhouse_settings: settings,
        }),
      (b) => b.length,
    )
    const reader = new RowBinaryReader(bytes)
    reader.header()
    while (!reader.done) {
      reader.string()
      reader.string()
      series++
      if (variant === 'resample' || variant === 'prewhere') {
        const p = reader.float64Array(slots)
        checksum += (p[0] ?? 0) + (p[slots - 1] ?? 0)
        continue
      }
      reader.int64()
      const d = reader.float64Array(days + 1)
      reader.float64Array(days + 1)
      checksum += d[0] ?? 0
      if (variant === 'both') {
        const p = reader.float64Array(slots)
        reader.int64()
        checksum += (p[0] ?? 0) + (p[slots - 1] ?? 0)
      }
    }
  }
}
const seconds = (performance.now() - started) / 1000
const cpuSeconds = (cpu() - cpuStarted) / 1000
await client.close()
console.log(
  JSON.stringify({
    variant,
    customers: Number(values.customers),
    chunks: chunkCount,
    series,
    checksum,
    seconds,
    cpuSeconds,
    engineSeconds: engineMs / 1000,
    engineCpuSeconds: engineCpuMs / 1000,
    resultMiB: resultBytes / 2 ** 20,
  }),
)
