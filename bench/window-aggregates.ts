// What each aggregate of the job's window query costs the engine (issue 14), on the job bench's data:
//   npx tsx bench/job-profile.ts --data-dir /tmp/mf-prof --customers 10000 --generate --optimize   (once)
//   npx tsx bench/window-aggregates.ts --data-dir /tmp/mf-prof --customers 10000
// The sum metrics of every chunk of 1,000 customers, read as RowBinary (what the job reads) with the aggregates
// named in each variant, repetitions interleaved so that a load change hits every variant alike. Prints the wall
// time and the process's CPU (the engine's threads included) per pass over all chunks.
import { parseArgs } from 'node:util'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { profileIndexSql } from '../src/adapters/clickhouse/profile-layout.js'
import { loadConfig } from '../src/config.js'
import { DAY_MS, HOUR_MS } from '../src/domain/time.js'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    customers: { type: 'string', default: '10000' },
    repetitions: { type: 'string', default: '6' },
  },
})
const customers = Number(values.customers)
const database = `bench_job_${customers}`
const slot = Date.UTC(2026, 10, 1)
const config = loadConfig(
  {},
  { dataDir: values['data-dir'] as string, logLevel: 'warn', demo: { enabled: false } },
)
const client = await createClickHouseClient(config)

const query = (aggregates: string) => `
  SELECT metric, customer_id, ${aggregates} FROM (
    SELECT metric, customer_id, sum_value, {slot:Int64} - 1 - toInt64(toUnixTimestamp(hour)) * 1000 AS age,
      intDiv(age, ${DAY_MS}) AS k, if(age % ${DAY_MS} < ${HOUR_MS}, k, 100000) AS hk, intDiv(age, ${HOUR_MS}) AS h
    FROM {db:Identifier}.usage_hourly
    WHERE metric IN ['api_calls', 'bandwidth', 'compute_time']
      AND customer_id >= {from:String} AND customer_id < {to:String}
      AND hour >= toDateTime(intDiv({lo:Int64}, 1000), 'UTC') AND hour < toDateTime(intDiv({slot:Int64}, 1000), 'UTC'))
  GROUP BY metric, customer_id
  FORMAT RowBinary`
const days = 'sumResample(0, 31, 1)(sum_value, k)'
const dayHours = 'sumResample(0, 31, 1)(sum_value, hk)'
const recent = 'if(countIf(h >= 1 AND h <= 168) = 0, [], sumResample(1, 169, 1)(sum_value, h))'
const profilesBy = (index: string) =>
  `if(countIf(${index} < 120) = 0, [], sumResample(0, 120, 1)(sum_value, ${index}))`
// The profile index as the job computes it (from the hours back), and as it did before (from the age in ms).
const profiles = profilesBy(profileIndexSql('h', 100000))
const week = 7 * DAY_MS
const ageBefore = `(age + 1 - ${HOUR_MS})`
const profilesBefore = profilesBy(
  `if(${ageBefore} % ${week} < ${DAY_MS}, intDiv(${ageBefore}, ${week}) * 24 + 23 - intDiv(${ageBefore} % ${week}, ${HOUR_MS}), 100000)`,
)
const VARIANTS: Record<string, string> = {
  'no aggregate (scan + GROUP BY)': 'count()',
  'days only': days,
  'recent hours only': recent,
  "days + each day's hour + recent (before)": `${days}, ${dayHours}, ${recent}`,
  'days + current hour + recent (default now)': `${days}, [sumIf(sum_value, h = 0)], ${recent}`,
  'the same + profiles, index from ms (shape before)': `${days}, [sumIf(sum_value, h = 0)], ${recent}, ${profilesBefore}`,
  'the same + profiles, index from hours (shape now)': `${days}, [sumIf(sum_value, h = 0)], ${recent}, ${profiles}`,
  'days + every hour to 4 weeks + 24 h': `${days}, sumResample(0, ${4 * 168 + 24}, 1)(sum_value, h)`,
  // Cheaper profiles tried (none was, but the first, which cannot tell a day of zeros from a day without rows).
  'shape now without the emptiness countIf': `${days}, [sumIf(sum_value, h = 0)], ${recent}, sumResample(0, 120, 1)(sum_value, ${profileIndexSql('h', 100000)})`,
  'shape now as -IfResample': `${days}, [sumIf(sum_value, h = 0)], ${recent}, if(countIf(h % 168 < 24) = 0, [], sumIfResample(0, 120, 1)(sum_value, h % 168 < 24, ${profileIndexSql('h')}))`,
  'recent to 191 h + profiles of weeks 2-4 only': `${days}, [sumIf(sum_value, h = 0)], if(countIf(h >= 1 AND h <= 191) = 0, [], sumResample(1, 192, 1)(sum_value, h)), if(countIf(${profileIndexSql('h', 100000)} >= 48 AND ${profileIndexSql('h', 100000)} < 120) = 0, [], sumResample(48, 120, 1)(sum_value, ${profileIndexSql('h', 100000)}))`,
}

const id = (n: number) => `cust-${String(n).padStart(6, '0')}`
const chunks: [string, string][] = []
for (let c = 0; c < customers; c += 1_000) chunks.push([id(c), id(c + 1_000)])
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const totals = new Map<string, { ms: number; cpuMs: number }>()
const repetitions = Number(values.repetitions)
// One pass first, untimed: pages cached and code paths warm for every variant.
for (let rep = 0; rep <= repetitions; rep++) {
  for (const [name, aggregates] of Object.entries(VARIANTS)) {
    const started = performance.now()
    const cpuStarted = cpuMs()
    for (const [from, to] of chunks) {
      const { stream } = await client.exec({
        query: query(aggregates),
        query_params: { db: database, slot, lo: slot - 31 * DAY_MS, from, to },
        clickhouse_settings: { optimize_aggregation_in_order: 1, wait_end_of_query: 1 },
      })
      for await (const _ of stream) {
        // drained: the reply crosses as the job's would
      }
    }
    if (rep === 0) continue
    const t = totals.get(name) ?? { ms: 0, cpuMs: 0 }
    totals.set(name, { ms: t.ms + performance.now() - started, cpuMs: t.cpuMs + cpuMs() - cpuStarted })
  }
}
await client.close()
for (const [name, t] of totals) {
  const pass = (x: number) => (x / repetitions).toFixed(0).padStart(6)
  process.stdout.write(`${name.padEnd(52)} ${pass(t.ms)} ms, CPU ${pass(t.cpuMs)} ms per pass\n`)
}
