// `npx tsx bench/ingest-compare.ts --base <checkout of another commit> [--customers 100] [--fsync-variants]`: HTTP
// ingest of this checkout and of `--base` (e.g. `git worktree add --detach /tmp/base main`, node_modules symlinked),
// beside the direct engine insert, in one process on one engine, batch by batch in rotating order, so that load from
// other processes hits every path alike (2 shared cores make separate runs minutes apart incomparable). Each path
// writes its own database. `--fsync-variants` adds this checkout with the derived tables, and with no table at all,
// synced on insert: what fsync costs (neither is a supported setting).
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { clickhouseTime } from '../src/adapters/clickhouse/errors.js'
import { migrate } from '../src/adapters/clickhouse/migrations.js'
import { generateDemo } from '../src/demo/generator.js'
import { toApiEvent } from '../src/demo/load.js'
import { floorToHour, HOUR_MS } from '../src/domain/time.js'
import { buildServer } from '../src/http/server.js'
import { openMeterFlow } from '../src/wiring.js'
import { apiBenchConfig } from './check-latency.js'

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    customers: { type: 'string', default: '100' },
    'fsync-variants': { type: 'boolean', default: false },
  },
})
if (!args.base) throw new Error('--base <path of another checkout> is required')
const base = resolve(args.base)
const dataDir = mkdtempSync(join(tmpdir(), 'meterflow-ingest-compare-'))
const config = apiBenchConfig(dataDir)
const client = await createClickHouseClient(config)
const inDatabase = (database: string) => ({ ...config, clickhouse: { ...config.clickhouse, database } })
type Server = { listen(o: object): Promise<string>; close(): Promise<unknown> }
type Flow = { close(): Promise<void> }
const closers: (() => Promise<unknown>)[] = []
const urls: Record<string, string> = {}

async function serve(name: string, open: () => Promise<Flow>, build: (f: Flow) => Promise<Server>) {
  const flow = await open()
  const app = await build(flow)
  urls[name] = await app.listen({ port: 0, host: '127.0.0.1' })
  closers.push(
    () => app.close(),
    () => flow.close().catch(() => undefined),
  )
}

try {
  const baseWiring = await import(join(base, 'src/wiring.ts'))
  const baseServer = await import(join(base, 'src/http/server.ts'))
  await serve(
    'base',
    () => baseWiring.openMeterFlow(inDatabase('base'), { clickhouse: client }),
    (f) => baseServer.buildServer(f, { logLevel: 'error' }),
  )
  const unsynced: Record<string, string[]> = { this: [] }
  if (args['fsync-variants']) {
    unsynced['this, derived tables not synced'] = ['usage_events', 'usage_hourly', 'usage_first_seen']
    unsynced['this, nothing synced'] = ['usage_events', 'usage_hourly', 'usage_first_seen', 'ingest_ledger']
  }
  for (const [i, [name, tables]] of Object.entries(unsynced).entries()) {
    await serve(
      name,
      () => openMeterFlow(inDatabase(`this${i}`), { clickhouse: client }),
      (f) => buildServer(f as Awaited<ReturnType<typeof openMeterFlow>>, { logLevel: 'error' }),
    )
    for (const table of tables) {
      await client.command({
        query: `ALTER TABLE this${i}.${table} MODIFY SETTING fsync_after_insert = 0, fsync_part_directory = 0`,
      })
    }
  }
  await migrate(client, 'direct')

  const dataset = generateDemo({
    customers: Number(args.customers),
    days: 35,
    seed: 1,
    endMs: floorToHour(Date.now()) + HOUR_MS,
  })
  const batches = [...dataset.batches()]
  const bodies = batches.map((b) => JSON.stringify(b.map(toApiEvent)))
  const rows = batches.map((b) =>
    b.map((e) => ({
      customer_id: e.customerId,
      metric: e.metric,
      ts: clickhouseTime(e.timestampMs),
      value: e.value,
      event_id: e.eventId ?? '',
    })),
  )
  const paths = [...Object.keys(urls), 'direct']
  const ms = new Map(paths.map((p) => [p, [] as number[]]))
  const run = async (path: string, i: number) => {
    if (path === 'direct') {
      await client.insert({ table: 'direct.usage_events', values: rows[i] ?? [], format: 'JSONEachRow' })
      return
    }
    const res = await fetch(`${urls[path]}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bodies[i],
    })
    const reply = (await res.json()) as { stored?: number }
    if (!res.ok || reply.stored !== batches[i]?.length) throw new Error(`${path}: ${JSON.stringify(reply)}`)
  }
  const loadBefore = loadavg()[0] ?? 0
  for (let i = 0; i < batches.length; i++) {
    for (let k = 0; k < paths.length; k++) {
      const path = paths[(i + k) % paths.length] as string
      const started = performance.now()
      await run(path, i)
      ms.get(path)?.push(performance.now() - started)
    }
  }
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0)
  const direct = ms.get('direct') ?? []
  console.log(
    `${dataset.totalEvents} events in ${batches.length} batches, load average ${loadBefore.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)}; direct insert ${(sum(direct) / 1000).toFixed(2)} s`,
  )
  for (const path of paths.filter((p) => p !== 'direct')) {
    const own = ms.get(path) ?? []
    const perBatch = direct.map((d, i) => d / (own[i] ?? Number.NaN)).sort((a, b) => a - b)
    console.log(
      `  ${path === 'base' ? `base (${args.base})` : path}: HTTP ${(sum(own) / 1000).toFixed(2)} s, ${((100 * sum(direct)) / sum(own)).toFixed(0)}% of direct (median of batches ${(100 * (perBatch[Math.floor(perBatch.length / 2)] ?? 0)).toFixed(0)}%)`,
    )
  }
} finally {
  for (const close of closers.reverse()) await close()
  await client.close().catch(() => undefined)
  rmSync(dataDir, { recursive: true, force: true })
}
