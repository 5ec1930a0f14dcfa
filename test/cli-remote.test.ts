import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { buildServer } from '../src/http/server.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { tempDataDir, testConfig } from './helpers.js'
import { businessDays } from './shape-fixtures.js'

// `meterflow job run --url` and `anomalies list --url` against a real server in this process (auth on, a real
// key), the CLI in its own process on another, empty data directory: every answer comes from the server.

const END = Date.UTC(2026, 9, 1, 12) // in the past: the server and the CLI run on the real clock
const SLOT = new Date(END).toISOString()
const data = tempDataDir()
let clickhouse: ClickHouseClient
let meterflow: MeterFlow
let app: FastifyInstance
let url: string
let key: string

beforeAll(async () => {
  const config = testConfig(join(data.dir, 'server'), { auth: { mode: 'on' } })
  clickhouse = await createClickHouseClient(config)
  meterflow = await openMeterFlow(config, { clickhouse })
  app = await buildServer(meterflow)
  url = await app.listen({ port: 0, host: '127.0.0.1' })
  key = (await meterflow.keys.create({ name: 'cli', scopes: ['admin'] })).token
})
afterAll(async () => {
  await app?.close()
  await meterflow?.close()
  data.remove()
})

/** The CLI, asynchronously: the server answering it runs on this process's event loop. */
function meterflowCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { METERFLOW_API_KEY: _inherited, ...inherited } = process.env
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        env: { ...inherited, METERFLOW_DATA_DIR: join(data.dir, 'cli-never-opened'), ...env },
        encoding: 'utf8',
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const withKey = () => ({ METERFLOW_API_KEY: key })

async function api(path: string) {
  const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${key}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

describe('job run and anomalies list with --url', () => {
  it('runs a slot on the server and lists what it found, with the API filters', async () => {
    const demo = await meterflowCli(
      [
        'demo',
        '--customers',
        '6',
        '--days',
        '35',
        '--end',
        SLOT,
        '--url',
        url,
        '--labels',
        join(data.dir, 'l.json'),
      ],
      withKey(),
    )
    expect(demo.code, demo.stderr).toBe(0)

    const run = await meterflowCli(['job', 'run', '--slot', SLOT, '--url', url, '--json'], withKey())
    expect(run.code, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({ status: 'completed', slot: SLOT, checked: 24, trigger: 'api' })
    expect(record.anomalies_found).toBeGreaterThan(0)
    expect(run.stderr).toContain('alerts: sent by the server')
    expect(await api(`/v1/runs/${record.run_id}`)).toMatchObject({ status: 'completed' })
    // The same line as the local form; --api-key instead of the variable.
    const human = await meterflowCli(['job', 'run', '--slot', String(END), '--url', url, '--api-key', key])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/: completed; checked 24 series of 6 customers .*\(0 new\)/)

    const all = (await api('/v1/anomalies?limit=1000')).items
    const listed = await meterflowCli(
      ['anomalies', 'list', '--url', url, '--json', '--limit', '1000'],
      withKey(),
    )
    expect(listed.code, listed.stderr).toBe(0)
    expect(lines(listed.stdout)).toEqual(all)

    // Filters reach the server as its query parameters: the same items as the API gives for them.
    const since = new Date(END - 3 * 86_400_000).toISOString()
    const expected = (await api(`/v1/anomalies?metric=api_calls&severity=critical&since=${since}&limit=1000`))
      .items
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(all.length)
    const filtered = await meterflowCli(
      [
        'anomalies',
        'list',
        '--url',
        url,
        '--metric',
        'api_calls',
        '--severity',
        'critical',
        '--since',
        since,
        '--json',
      ],
      withKey(),
    )
    expect(filtered.code, filtered.stderr).toBe(0)
    expect(lines(filtered.stdout)).toEqual(expected)
    const two = await meterflowCli(['anomalies', 'list', '--url', url, '--limit', '2'], withKey())
    expect(two.stdout.trim().split('\n')).toHaveLength(2)
    expect(two.stdout).toMatch(/^\d{4}-\d\d-\d\dT.*(warning|critical) +(spike|drop)/)
    expect(two.stderr).toContain('2 anomalies')
  })

  it('exits 1 with the server failure: a failed run (printed), a refused slot, a missing key', async () => {
    const rows = await clickhouse.query({
      query: `SELECT name FROM system.tables WHERE database = {db:String}
        AND engine NOT IN ('MaterializedView', 'View') AND name NOT IN ('metrics', 'schema_migrations')`,
      query_params: { db: meterflow.config.clickhouse.database },
      format: 'JSONEachRow',
    })
    const tables = (await rows.json<{ name: string }>()).map((r) => r.name)
    const statement = (verb: 'DETACH' | 'ATTACH', table: string) =>
      clickhouse.command({
        query: `${verb} TABLE {db:Identifier}.{table:Identifier}`,
        query_params: { db: meterflow.config.clickhouse.database, table },
      })
    // The usage store failing for real during the run: the server records the run failed and answers 500 with it.
    for (const table of tables) await statement('DETACH', table)
    let failed: Awaited<ReturnType<typeof meterflowCli>>
    try {
      failed = await meterflowCli(['job', 'run', '--slot', SLOT, '--url', url], withKey())
    } finally {
      for (const table of tables) await statement('ATTACH', table)
    }
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^run [0-9a-f-]+ slot .*: failed; .*; error: /)
    const runId = /^run ([0-9a-f-]+)/.exec(failed.stdout)?.[1]
    expect(await api(`/v1/runs/${runId}`)).toMatchObject({ status: 'failed' })

    const future = await meterflowCli(
      ['job', 'run', '--slot', '2099-01-01T00:00:00Z', '--url', url],
      withKey(),
    )
    expect(future.code).toBe(1)
    expect(future.stderr).toMatch(/slot: must not lie beyond the current hour/)

    const anonymous = await meterflowCli(['anomalies', 'list', '--url', url])
    expect(anonymous.code).toBe(1)
    expect(anonymous.stderr).toContain('(set METERFLOW_API_KEY or pass --api-key)')
    const badSeverity = await meterflowCli(
      ['anomalies', 'list', '--url', url, '--severity', 'major'],
      withKey(),
    )
    expect(badSeverity.code).toBe(1)
    expect(badSeverity.stderr).toContain('--severity must be warning or critical')
    // None of it opened the CLI's own (embedded) store.
    expect(existsSync(join(data.dir, 'cli-never-opened'))).toBe(false)
  })
})

describe('check --mode with --url', () => {
  it("asks the server for the mode's verdict: shape catches the moved day, volume does not", async () => {
    // The day ending at END has the usual total at 02:30-04:30 instead of business hours.
    const ingested = await meterflow.ingest(businessDays('remote-shape', END, 36, true))
    expect(ingested.stored).toBeGreaterThan(0)
    const checkCli = (mode: string) =>
      meterflowCli(
        [
          'check',
          '--customer',
          'remote-shape',
          '--metric',
          'api_calls',
          '--end',
          SLOT,
          '--mode',
          mode,
          '--url',
          url,
          '--json',
        ],
        withKey(),
      )
    const shape = await checkCli('shape')
    expect(shape.code, shape.stderr).toBe(0)
    const body = JSON.parse(shape.stdout)
    expect(body).toEqual(
      await api(
        `/v1/anomalies/check?customer_id=remote-shape&metric=api_calls&current_end=${SLOT}&mode=shape`,
      ),
    )
    expect(body).toMatchObject({ mode: 'shape', is_anomaly: true, fired: ['shape'], method: 'shape' })
    const volume = JSON.parse((await checkCli('volume')).stdout)
    expect(volume).toMatchObject({ mode: 'volume', is_anomaly: false, fired: [] })
    expect(volume.shape).toBeUndefined()
    // A window shape cannot judge: the server's 400, field and reason, and exit 1.
    const offHour = await meterflowCli(
      [
        'check',
        '--customer',
        'remote-shape',
        '--metric',
        'api_calls',
        '--end',
        String(END - 60_000),
        '--mode',
        'shape',
        '--url',
        url,
      ],
      withKey(),
    )
    expect(offHour.code).toBe(1)
    expect(offHour.stderr).toMatch(/current_end: must be a whole hour for shape/)
  })
})

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
}
