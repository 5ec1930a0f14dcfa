import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { loadConfig } from '../src/config.js'
const config = loadConfig({}, { dataDir: '/tmp/mem-data10k', logLevel: 'warn', demo: { enabled: false }, clickhouse: { database: 'bench_job_10000' } })
const c = await createClickHouseClient(config)
const S = Date.UTC(2026, 10, 1)
const rng = "customer_id >= 'cust-000010' AND customer_id < 'cust-000020'"
const inner = `SELECT metric, customer_id, sum_value, ${S} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age, intDiv(age, 86400000) AS k, if(age % 86400000 < 3600000, k, 100000) AS hk, intDiv(age, 3600000) AS h FROM bench_job_10000.usage_hourly WHERE metric IN ['api_calls','bandwidth','compute_time'] AND ${rng} AND hour >= toDateTime(intDiv(${S - 31 * 86400000}, 1000), 'UTC') AND hour < toDateTime(intDiv(${S}, 1000), 'UTC')`
const agg = `SELECT metric, customer_id, sumResample(0, 31, 1)(sum_value, k) AS by_day, sumResample(0, 31, 1)(sum_value, hk) AS by_hour, if(countIf(h >= 1 AND h <= 168) = 0, [], sumResample(1, 169, 1)(sum_value, h)) AS recent FROM (${inner}) GROUP BY metric, customer_id`
const V: Record<string, string> = {
  join: `SELECT metric, customer_id, first_ms, by_day, by_hour, recent FROM (${agg}) AS a INNER JOIN (SELECT metric, customer_id, toInt64(toUnixTimestamp(min(first_hour))) * 1000 AS first_ms FROM bench_job_10000.usage_first_seen WHERE metric IN ['api_calls','bandwidth','compute_time'] AND ${rng} GROUP BY metric, customer_id) AS f USING (metric, customer_id)`,
  nojoin: `SELECT metric, customer_id, 0 AS first_ms, by_day, by_hour, recent FROM (${agg})`,
  one: 'SELECT 1',
}
const times: Record<string, number[]> = {}
for (let r = 0; r < 30; r++) for (const [name, q] of Object.entries(V)) {
  const t = performance.now()
  const res = await c.exec({ query: `${q} FORMAT RowBinaryWithNamesAndTypes`, clickhouse_settings: { optimize_aggregation_in_order: 1 } })
  for await (const _ of res.stream) { }
  ;(times[name] ??= []).push(performance.now() - t)
}
for (const [n, ts] of Object.entries(times)) { ts.sort((a, b) => a - b); console.log(n, 'median ms', ts[15]?.toFixed(1), 'min', ts[0]?.toFixed(1)) }
await c.close()
