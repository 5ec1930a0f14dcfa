import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDataDir } from './helpers.js'
import { startServer } from './server-process.js'
import { businessDays } from './shape-fixtures.js'

const data = tempDataDir()
afterAll(() => data.remove())

const HOUR = 3_600_000
const END = Date.UTC(2026, 9, 1, 12) // in the past: the CLI runs on the real clock

function meterflow(args: string[], dataDir = join(data.dir, 'store'), env: Record<string, string> = {}) {
  const { METERFLOW_API_KEY: _inherited, ...inherited } = process.env
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...inherited, METERFLOW_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('meterflow CLI', () => {
  it('ingests a CSV file and an NDJSON file with progress, then checks from the command line', () => {
    const csv = ['timestamp,customer_id,metric,value,event_id']
    const ndjson: string[] = []
    for (let hour = 1; hour <= 20 * 24; hour++) {
      const row = { ts: END - hour * HOUR, value: hour <= 24 ? 500 : 100 }
      if (hour % 2 === 0) csv.push(`${row.ts},"cli-co",api_calls,${row.value},csv-${hour}`)
      else
        ndjson.push(
          JSON.stringify({
            customer_id: 'cli-co',
            metric: 'api_calls',
            value: row.value,
            timestamp: new Date(row.ts).toISOString(),
            event_id: `nd-${hour}`,
          }),
        )
    }
    writeFileSync(join(data.dir, 'usage.csv'), `${csv.join('\n')}\n`)
    writeFileSync(join(data.dir, 'usage.ndjson'), `${ndjson.join('\n')}\n`)

    const first = meterflow(['ingest', join(data.dir, 'usage.csv')])
    expect(first.stderr).toContain('ingest: 100%')
    expect(first.stdout).toContain('ingested 240 events')
    expect(first.code).toBe(0)
    expect(meterflow(['ingest', join(data.dir, 'usage.ndjson')]).stdout).toContain('240 stored')
    expect(meterflow(['ingest', join(data.dir, 'usage.csv')]).stdout).toContain(
      '0 stored, 240 duplicates skipped',
    )

    const check = meterflow([
      'check',
      '--customer',
      'cli-co',
      '--metric',
      'api_calls',
      '--end',
      new Date(END).toISOString(),
      '--json',
    ])
    expect(check.code).toBe(0)
    expect(JSON.parse(check.stdout)).toMatchObject({
      is_anomaly: true,
      direction: 'spike',
      current_value: 24 * 500,
      baseline: { mean: 24 * 100, samples: 19 },
    })
    const human = meterflow(['check', '--customer', 'cli-co', '--metric', 'api_calls', '--end', String(END)])
    expect(human.stdout).toMatch(/cli-co \/ api_calls: ANOMALY \(critical, spike\)/)
  })

  it("judges as the job does with --detector job: the deciding window, the job's settings, no seed tuning", () => {
    const check = (...args: string[]) =>
      meterflow(['check', '--customer', 'cli-co', '--metric', 'api_calls', '--end', String(END), ...args])
    const json = check('--detector', 'job', '--mode', 'volume', '--json')
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({
      detector: 'job',
      slot: new Date(END).toISOString(),
      window: 'day',
      is_anomaly: true,
      severity: 'critical',
      current_value: 24 * 500,
      detector_settings: { windows: ['day', 'recent'] },
    })
    const human = check('--detector', 'job', '--mode', 'volume')
    expect(human.stdout).toMatch(/detector +job, slot 2026-10-01T12:00:00.000Z: the day window decided/)
    const tuned = check('--detector', 'job', '--threshold', '4')
    expect(tuned.code).toBe(1)
    expect(tuned.stderr).toMatch(/threshold: is not taken with detector=job/)
  })

  it('checks one signal or both with --mode: shape catches a day whose hours moved, volume does not', () => {
    const store = join(data.dir, 'shape-store')
    const file = join(data.dir, 'shape.ndjson')
    writeFileSync(
      file,
      `${businessDays('cli-shape', END, 36, true)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    )
    expect(meterflow(['ingest', file], store).code).toBe(0)
    const check = (...args: string[]) =>
      meterflow(
        ['check', '--customer', 'cli-shape', '--metric', 'api_calls', '--end', String(END), ...args],
        store,
      )

    const shape = check('--mode', 'shape', '--json')
    expect(shape.code, shape.stderr).toBe(0)
    expect(JSON.parse(shape.stdout)).toMatchObject({
      mode: 'shape',
      is_anomaly: true,
      fired: ['shape'],
      shape: { status: 'ok', is_anomaly: true, window_basis: 'requested' },
    })
    const volume = JSON.parse(check('--mode', 'volume', '--json').stdout)
    expect(volume).toMatchObject({ mode: 'volume', is_anomaly: false, fired: [] })
    expect(volume.shape).toBeUndefined()
    // The default is combined; the human form says which signal fired and why.
    const human = check()
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/cli-shape \/ api_calls: ANOMALY \(critical, spike\)/)
    expect(human.stdout).toMatch(/fired +shape\n/)
    expect(human.stdout).toMatch(/similarity +0\.\d{3} < threshold 0\.9 \(mean, 4 baseline weeks/)

    const bad = check('--mode', 'both')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/--mode.*must be one of volume, shape, combined/)
  })

  it('names the file line of a bad event and exits 1', () => {
    const file = join(data.dir, 'bad.ndjson')
    const good = JSON.stringify({ customer_id: 'x', metric: 'api_calls', value: 1, timestamp: END - HOUR })
    writeFileSync(
      file,
      `${good}\n\n${JSON.stringify({ customer_id: 'x', metric: 'api_calls', value: -1, timestamp: END })}\n`,
    )
    const result = meterflow(['ingest', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/line 3: value: must not be negative/)
  })

  it('rejects bad options before touching the store', () => {
    const result = meterflow(['check', '--customer', 'x', '--metric', 'api_calls', '--baseline-days', '0'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/baseline-days.*1\.\.365/)
  })

  it('bounds every number: 1e309 and the like are refused before touching the store', () => {
    for (const [option, value] of [
      ['--threshold', '1e309'],
      ['--critical-threshold', 'Infinity'],
      ['--baseline-days', '1e309'],
      ['--threshold', '0x10'],
      ['--threshold', '1000001'],
    ]) {
      const result = meterflow([
        'check',
        '--customer',
        'x',
        '--metric',
        'api_calls',
        option as string,
        value as string,
      ])
      expect(result.code, `${option} ${value}`).not.toBe(0)
      expect(result.stderr).toContain(`option '${option}`)
    }
    const demo = meterflow(['demo', '--seed', '1e309'])
    expect(demo.code).not.toBe(0)
    expect(demo.stderr).toMatch(/--seed.*0\.\.2147483648/)
  })

  it('refuses a slot beyond the current hour, naming slot, and exits 1', () => {
    const store = join(data.dir, 'future-slot-store')
    const result = meterflow(['job', 'run', '--slot', '2099-01-01T00:00:00Z'], store)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/slot: must not lie beyond the current hour/)
    const runs = meterflow(['job', 'run', '--slot', new Date(END).toISOString(), '--json'], store)
    expect(runs.code, runs.stderr).toBe(0)
    expect(JSON.parse(runs.stdout)).toMatchObject({ status: 'completed', slot: new Date(END).toISOString() })
  })

  it('says so when a running server holds the data directory, and --url then works', async () => {
    const dir = join(data.dir, 'held-store')
    const server = await startServer({ METERFLOW_DATA_DIR: dir })
    try {
      const result = meterflow(['anomalies', 'list'], dir)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(
        `the data directory ${dir} is in use by another MeterFlow process (pid ${server.child.pid}, the server?): stop it, or add --url http://<host>:<port> to this command to go through that server (with METERFLOW_API_KEY or --api-key)`,
      )
      expect(result.stderr).not.toMatch(/Cannot lock file/)
      // The advice holds for every command that opens the store: each takes --url and goes through the server.
      const key = /mf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(server.output())?.[0] ?? 'no key printed'
      const viaServer = { METERFLOW_API_KEY: key }
      const slot = new Date(END).toISOString()
      const run = meterflow(['job', 'run', '--slot', slot, '--url', server.url, '--json'], dir, viaServer)
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', slot, trigger: 'api' })
      const list = meterflow(['anomalies', 'list', '--url', server.url], dir, viaServer)
      expect(list.code, list.stderr).toBe(0)
      expect(list.stderr).toContain('0 anomalies')
      for (const command of [['ingest'], ['check'], ['demo'], ['job', 'run'], ['anomalies', 'list']]) {
        expect(meterflow([...command, '--help'], dir).stdout, command.join(' ')).toMatch(/--url <url>/)
      }
    } finally {
      await server.stop()
    }
    // Once the server is gone the same directory opens (its status file stays behind, naming the dead pid).
    const after = meterflow(['anomalies', 'list'], dir)
    expect(after.code, after.stderr).toBe(0)
  })

  it('runs the detection job for a slot and lists what it found', () => {
    const store = join(data.dir, 'job-store')
    const demo = meterflow(
      [
        'demo',
        '--customers',
        '6',
        '--days',
        '35',
        '--end',
        new Date(END).toISOString(),
        '--labels',
        join(data.dir, 'l.json'),
      ],
      store,
    )
    expect(demo.code).toBe(0)
    const run = meterflow(['job', 'run', '--slot', new Date(END).toISOString(), '--json'], store)
    expect(run.code, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({
      status: 'completed',
      slot: new Date(END).toISOString(),
      checked: 24,
      trigger: 'cli',
    })
    expect(record.anomalies_found).toBeGreaterThan(0)
    const human = meterflow(['job', 'run', '--slot', String(END)], store)
    expect(human.stdout).toMatch(/completed; checked 24 series of 6 customers .*\(0 new\)/)

    const list = meterflow(['anomalies', 'list', '--customer', 'acme-corp', '--json'], store)
    const lines = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({ customer_id: 'acme-corp', metric: 'api_calls', direction: 'spike' })
    expect(['day', 'hour', 'recent']).toContain(lines[0].window_kind)
    // The human listing names the window that fired beside the z-score.
    const listed = meterflow(['anomalies', 'list', '--customer', 'acme-corp', '--kind', 'volume'], store)
    expect(listed.stdout.trim().split('\n')[0]).toMatch(
      new RegExp(`\\(z -?\\d+\\.\\d\\d, ${lines[0].window_kind} window\\)$`),
    )
    const all = meterflow(['anomalies', 'list', '--limit', '2'], store)
    expect(all.stdout.trim().split('\n')).toHaveLength(2)
    expect(all.stderr).toContain('2 anomalies')
    expect(lines[0]).toMatchObject({ kind: 'volume' })
    const volume = meterflow(
      ['anomalies', 'list', '--customer', 'acme-corp', '--json', '--kind', 'volume'],
      store,
    )
    expect(volume.stdout).toBe(list.stdout)
    const unknown = meterflow(['anomalies', 'list', '--kind', 'vibes'], store)
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toContain('--kind must be one of volume')
  })

  it('generates demo data and writes its labels', () => {
    const labels = join(data.dir, 'labels.json')
    const result = meterflow(
      [
        'demo',
        '--customers',
        '5',
        '--days',
        '10',
        '--seed',
        '3',
        '--end',
        new Date(END).toISOString(),
        '--labels',
        labels,
      ],
      join(data.dir, 'demo-store'),
    )
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('demo: 100%')
    const written = JSON.parse(readFileSync(labels, 'utf8'))
    expect(written.options).toMatchObject({
      customers: 5,
      days: 10,
      seed: 3,
      end: new Date(END).toISOString(),
    })
    expect(written.labels.length).toBeGreaterThan(0)
    expect(result.stdout).toMatch(/demo: \d+ events for 5 customers/)
  })
})
