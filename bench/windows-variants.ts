// Ways to read every series' day windows and recent hours of one slot, measured on the job bench's data (issue 14):
//   npx tsx bench/job-profile.ts --data-dir /tmp/mf-prof --customers 10000 --generate            (once)
//   npx tsx bench/windows-variants.ts --data-dir /tmp/mf-prof --customers 10000 --variant <name>  (one process each)
// Variants: `two-scans` (the day-window query, then a second scan for the recent hours as (index, value) pairs),
// then one scan each: `if-pairs` (a conditional aggregate per day, recent hours as groupArrayIf pairs), `if-array`
// (a conditional aggregate per day, recent hours as a fixed array: sumResample/maxResample), `resample-pairs` and
// `resample-array` (the days as -Resample arrays too). Each runs over all chunks of 2,500 customers, sum then max,
// and the rows are parsed and folded as the job would. Prints the engine's time and CPU, the JS time, the result
// size and the process's peak RSS growth, in a process of its own so that the RSS is the variant's alone.
import { parseArgs } from 'node:util'
import type { ClickHouseClient } from '@clickhouse/client'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { CUSTOMERS_PER_CHUNK, chunkBounds } from '../src/adapters/clickhouse/series-windows.js'
import { loadConfig } from '../src/config.js'
import type { Aggregation } from '../src/domain/metrics.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    customers: { type: 'string', default: '10000' },
    variant: { type: 'string', default: 'two-scans' },
    'recent-hours': { type: 'string', default: '168' },
  },
})
const VARIANTS = ['two-scans', 'if-pairs', 'if-array', 'resample-pairs', 'resample-array'] as const
type Variant = (typeof VARIANTS)[number]
const variant = values.variant as Variant
if (!VARIANTS.includes(variant)) throw new Error(`variant: one of ${VARIANTS.join(', ')}`)
const database = `bench_job_${values.customers}`
const slot = Date.UTC(2026, 10, 1)
const days = 30
const hours = Number(values['recent-hours'])

const RANGE = `metric IN {metrics:Array(String)}
  AND customer_id >= {from:String} AND ({to:String} = '' OR customer_id < {to:String})`
const FIRST_SEEN = `INNER JOIN (
    SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms
    FROM {db:Identifier}.usage_first_seen WHERE ${RANGE} GROUP BY metric, customer_id
  ) AS f USING (metric, customer_id)`

function windowsSql(aggregation: Aggregation, v: Variant): string {
  const fn = aggregation === 'sum' ? 'sum' : 'max'
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  const perDay = (index: string) =>
    v.startsWith('resample')
      ? `${fn}Resample(0, ${days + 1}, 1)(${column}, ${index})`
      : `[${Array.from({ length: days + 1 }, (_, d) => `${fn}If(${column}, ${index} = ${d})`).join(', ')}]`
  const recent =
    v === 'two-scans'
      ? ''
      : v.endsWith('pairs')
        ? `, groupArrayIf((toUInt32(h - 1), ${column}), h >= 1 AND h <= ${hours}) AS recent`
        : `, if(countIf(h >= 1 AND h <= ${hours}) = 0, [], ${fn}Resample(1, ${hours + 1}, 1)(${column}, h)) AS recent`
  return `
  SELECT metric, customer_id, first_ms, by_day, by_hour${v === 'two-scans' ? '' : ', recent'}
  FROM (
    SELECT metric, customer_id, ${perDay('k')} AS by_day, ${perDay('hk')} AS by_hour${recent}
    FROM (
      SELECT metric, customer_id, ${column},
        {slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
        intDiv(age, ${DAY_MS}) AS k,
        if(age % ${DAY_MS} < ${HOUR_MS}, k, 100000) AS hk,
        intDiv(age, ${HOUR_MS}) AS h
      FROM {db:Identifier}.usage_hourly
      WHERE ${RANGE}
        AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC')
    )
    GROUP BY metric, customer_id
  ) AS a
  ${FIRST_SEEN}`
}
const recentSql = (aggregation: Aggregation) => {
  const column = aggregation === 'sum' ? 'sum_value' : 'max_value'
  return `
  SELECT metric, customer_id, groupArray(idx) AS idxs, groupArray(${column}) AS vals
  FROM (
    SELECT metric, customer_id, ${column},
      toUInt32(intDiv({slot:Int64} - ${HOUR_MS} - 1 - toInt64(toUnixTimestamp(hour)) * 1000, ${HOUR_MS})) AS idx
    FROM {db:Identifier}.usage_hourly
    WHERE ${RANGE}
      AND hour >= toDateTime(intDiv({rlo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({rhi:Int64}, 1000), 'UTC')
  )
  GROUP BY metric, customer_id`
}

const fold = (aggregation: Aggregation, pairs: [number, number | string][]): number[] => {
  const f = aggregation === 'sum' ? (a: number, b: number) => a + b : Math.max
  const out = new Array<number>(hours).fill(0)
  const seen = new Array<boolean>(hours).fill(false)
  for (const [j, raw] of pairs) {
    const value = Number(raw)
    out[j] = seen[j] ? f(out[j] as number, value) : value
    seen[j] = true
  }
  return out
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
const rssBefore = process.memoryUsage().rss
let engineMs = 0
let engineCpuMs = 0
let resultBytes = 0
let series = 0
let checksum = 0
const read = async (query: string, params: Record<string, unknown>) => {
  const started = performance.now()
  const cpuStarted = cpu()
  const result = await client.query({
    query,
    query_params: params,
    format: 'JSONCompactEachRow',
    clickhouse_settings: { max_bytes_before_external_group_by: '50000000' },
  })
  const text = await result.text()
  engineMs += performance.now() - started
  engineCpuMs += cpu() - cpuStarted
  resultBytes += text.length
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown[])
}
const started = performance.now()
const cpuStarted = cpu()
const metrics = { sum: ['api_calls', 'bandwidth', 'compute_time'], max: ['storage_peak'] }
const bounds = await chunkBounds(client, database, CUSTOMERS_PER_CHUNK, { from: '', to: '' })
for (let i = 0; i < bounds.length; i++) {
  const range = { from: bounds[i] as string, to: bounds[i + 1] ?? '' }
  for (const aggregation of ['sum', 'max'] as const) {
    const params = {
      db: database,
      slot,
      lo: Math.min(slot - (days + 1) * DAY_MS, slot - (hours + 1) * HOUR_MS),
      rlo: slot - (hours + 1) * HOUR_MS,
      rhi: slot - HOUR_MS,
      metrics: metrics[aggregation],
      ...range,
    }
    const rows = await read(windowsSql(aggregation, variant), params)
    const recent = new Map<string, number[]>()
    if (variant === 'two-scans') {
      for (const [metric, customer, idxs, vals] of await read(recentSql(aggregation), params)) {
        const pairs = (idxs as number[]).map((j, n) => [j, (vals as number[])[n]] as [number, number])
        recent.set(`${customer}\u0000${metric}`, fold(aggregation, pairs))
      }
    }
    for (const row of rows) {
      series++
      const r =
        variant === 'two-scans'
          ? (recent.get(`${row[1]}\u0000${row[0]}`) ?? [])
          : variant.endsWith('pairs')
            ? (row[5] as unknown[]).length === 0
              ? []
              : fold(aggregation, row[5] as [number, number][])
            : (row[5] as number[])
      checksum += (r[0] ?? 0) + (r[r.length - 1] ?? 0) + ((row[3] as number[])[0] ?? 0)
    }
  }
}
const seconds = (performance.now() - started) / 1000
const cpuSeconds = (cpu() - cpuStarted) / 1000
// Everything not spent waiting on the engine: parsing, folding, the loop.
const jsMs = seconds * 1000 - engineMs
await client.close()
console.log(
  JSON.stringify({
    variant,
    customers: Number(values.customers),
    series,
    checksum,
    seconds,
    cpuSeconds,
    engineSeconds: engineMs / 1000,
    engineCpuSeconds: engineCpuMs / 1000,
    jsSeconds: jsMs / 1000,
    resultMiB: resultBytes / 2 ** 20,
    rssGrowthMiB: (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20,
  }),
)
