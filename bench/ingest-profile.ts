// `npx tsx bench/ingest-profile.ts [--customers 100] [--days 35]`: where HTTP ingest's time goes, beside the direct
// engine insert it is compared with (the bench's data and batches). Runs direct, HTTP, direct again (the engine
// slows as it fills, so the ratio uses the mean of both direct runs), and prints every engine call of the HTTP path by
// kind: stored-id lookups, the ledger's insert (its views write raw events, rollup and first-seen in the same call),
// commit rows written on their own. What is left of the HTTP time is HTTP + JSON + validation + building rows (JS).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { generateDemo } from '../src/demo/generator.js'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'
import { apiBenchConfig } from './check-latency.js'
import { ingestDirect, ingestOverHttp, requestBodies } from './ingest.js'

const { values: args } = parseArgs({
  options: { customers: { type: 'string', default: '100' }, days: { type: 'string', default: '35' } },
})
const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-ingestprof-'))
const config = apiBenchConfig(dataDir)
try {
  const client = await createClickHouseClient(config)
  const calls = new Map<string, { n: number; ms: number }>()
  const record = (kind: string, started: number) => {
    const entry = calls.get(kind) ?? { n: 0, ms: 0 }
    entry.n++
    entry.ms += performance.now() - started
    calls.set(kind, entry)
  }
  const insert = client.insert.bind(client)
  client.insert = (async (params: Parameters<typeof insert>[0]) => {
    const started = performance.now()
    try {
      return await insert(params)
    } finally {
      const token = String(params.clickhouse_settings?.insert_deduplication_token ?? '')
      record(`insert ${params.table.split('.').pop()} ${token.split(':').pop()}`, started)
    }
  }) as typeof client.insert
  const query = client.query.bind(client)
  client.query = (async (params: Parameters<typeof query>[0]) => {
    const started = performance.now()
    try {
      return await query(params)
    } finally {
      record(`query ${params.query.trim().replace(/\s+/g, ' ').slice(0, 48)}`, started)
    }
  }) as typeof client.query

  const dataset = generateDemo({
    customers: Number(args.customers),
    days: Number(args.days),
    seed: 1,
    endMs: floorToHour(Date.now()) + HOUR_MS,
  })
  const before = await ingestDirect(client, 'direct_before', dataset, () => undefined)
  const flow = await openMeterFlow(
    { ...config, clickhouse: { ...config.clickhouse, database: 'http' } },
    { clickhouse: client },
  )
  const app = await buildServer(flow, { logLevel: 'warn' })
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  const bodies = requestBodies(dataset)
  calls.clear()
  const http = await ingestOverHttp(baseUrl, bodies, () => undefined)
  const httpCalls = [...calls.entries()]
  const after = await ingestDirect(client, 'direct_after', dataset, () => undefined)
  await app.close()
  await flow.close()
  const direct = (before.seconds + after.seconds) / 2
  console.log(
    `direct ${before.seconds.toFixed(2)} s / ${after.seconds.toFixed(2)} s, HTTP ${http.seconds.toFixed(2)} s: HTTP at ${((100 * direct) / http.seconds).toFixed(0)}% of direct (${dataset.totalEvents} events)`,
  )
  let engine = 0
  console.table(
    httpCalls.map(([kind, { n, ms }]) => {
      engine += ms
      return { kind, calls: n, seconds: (ms / 1000).toFixed(2), 'ms/call': (ms / n).toFixed(1) }
    }),
  )
  console.log(`HTTP, JSON, validation, rows (not engine): ${(http.seconds - engine / 1000).toFixed(2)} s`)
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
