// `npx tsx bench/check-profile.ts`: where one check's time goes, in process (no HTTP): engine queries per check,
// time waiting for them, and the rest (JS), per mode, on the bench's data (100 customers x 35 days).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { loadConfig } from '../src/config.js'
import { DEMO_METRICS, generateDemo } from '../src/demo/generator.js'
import type { CheckMode } from '../src/domain/signals/combined-verdict.js'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { openMeterFlow } from '../src/wiring.js'
import { ingestInProcess } from './ingest.js'

const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-checkprof-'))
const config = loadConfig({}, { dataDir, logLevel: 'warn', demo: { enabled: false } })
try {
  const client = await createClickHouseClient(config)
  let queries = 0
  let engineMs = 0
  // Reads go through query (JSON rows) or exec (RowBinary rows, the check's window history): both count.
  const timed =
    <P, R>(call: (params: P) => Promise<R>) =>
    async (params: P): Promise<R> => {
      const started = performance.now()
      queries++
      try {
        return await call(params)
      } finally {
        engineMs += performance.now() - started
      }
    }
  client.query = timed(client.query.bind(client)) as typeof client.query
  client.exec = timed(client.exec.bind(client)) as typeof client.exec
  const endMs = floorToHour(Date.now()) + HOUR_MS
  const dataset = generateDemo({ customers: 100, days: 35, seed: 1, endMs })
  const meterflow = await openMeterFlow(config, { clickhouse: client })
  await ingestInProcess(meterflow, dataset, () => undefined)
  const ids = dataset.customers.map((c) => c.customerId)
  for (const [name, aligned, mode] of [
    ['aligned volume', true, 'volume'],
    ['aligned combined', true, 'combined'],
    ['default volume', false, 'volume'],
    ['default combined', false, 'combined'],
  ] as [string, boolean, CheckMode][]) {
    const n = 200
    for (let i = 0; i < 20; i++)
      await meterflow.check({ customerId: ids[i % ids.length] as string, metric: 'api_calls', mode })
    queries = 0
    engineMs = 0
    const cpu = process.cpuUsage()
    const started = performance.now()
    for (let i = 0; i < n; i++) {
      await meterflow.check({
        customerId: ids[i % ids.length] as string,
        metric: DEMO_METRICS[i % 4] as string,
        ...(aligned ? { currentEndMs: endMs } : {}),
        mode,
      })
    }
    const wall = (performance.now() - started) / n
    const used = process.cpuUsage(cpu)
    console.log(
      `${name}: ${wall.toFixed(2)} ms/check, ${(queries / n).toFixed(1)} queries/check, engine ${(engineMs / n).toFixed(2)} ms, cpu ${((used.user + used.system) / 1000 / n).toFixed(2)} ms/check`,
    )
  }
  await meterflow.close()
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
