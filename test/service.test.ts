import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SHOWCASE } from '../src/demo/generator.js'
import { startService } from '../src/serve.js'
import { openMeterFlow } from '../src/wiring.js'
import { tempDataDir, testConfig } from './helpers.js'
import { freePort } from './server-process.js'

const data = tempDataDir()
afterAll(() => data.remove())

describe('the service (npm start)', () => {
  it('loads demo data into an empty store, serves, documents its routes, and drains on stop', async () => {
    // The live feed off: an hour beginning during the test would add its usage to the exact counts below
    // (test/demo-feed.test.ts covers the feed).
    const config = testConfig(join(data.dir, 'svc'), {
      demo: { enabled: true, feed: false, customers: 6, days: 35 },
      http: { port: 0 },
    })
    const service = await startService(config)
    try {
      expect(await service.meterflow.usage.countEvents()).toBe(6 * 35 * 24 * 4 - (35 - 3) * 24 * 4)
      const labels = JSON.parse(readFileSync(join(config.dataDir, 'demo-labels.json'), 'utf8'))
      expect(labels.labels.map((l: { customer_id: string }) => l.customer_id)).toEqual(
        expect.arrayContaining([SHOWCASE.spike, SHOWCASE.drop]),
      )

      expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: 'ok' })
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200)
      const openapi = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
        paths: Record<string, { get: { parameters: { name: string }[] } }>
      }
      expect(Object.keys(openapi.paths)).toEqual(
        expect.arrayContaining(['/v1/events', '/v1/anomalies/check', '/v1/metrics']),
      )
      expect(
        openapi.paths['/v1/anomalies/check']?.get.parameters.map((p: { name: string }) => p.name),
      ).toEqual(
        expect.arrayContaining([
          'customer_id',
          'metric',
          'current_start',
          'current_end',
          'baseline_days',
          'threshold',
        ]),
      )

      const check = await fetch(
        `${service.url}/v1/anomalies/check?customer_id=${SHOWCASE.spike}&metric=api_calls`,
      )
      expect(await check.json()).toMatchObject({ is_anomaly: true, direction: 'spike' })

      // A request still uploading its body when shutdown starts must finish and be stored.
      const body = JSON.stringify([
        {
          event_id: 'inflight-1',
          customer_id: 'late',
          metric: 'api_calls',
          value: 1,
          timestamp: Date.now() - 60_000,
        },
      ])
      const { port } = new URL(service.url)
      const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            port,
            method: 'POST',
            path: '/v1/events',
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (res) => {
            let text = ''
            res.on('data', (chunk) => {
              text += chunk
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
          },
        )
        req.on('error', reject)
        req.write(body.slice(0, 10))
        setTimeout(() => {
          stopped = service.stop()
          setTimeout(() => req.end(body.slice(10)), 200)
        }, 100)
      })
      let stopped: Promise<void> | undefined
      const result = await reply
      expect(result.status).toBe(200)
      expect(JSON.parse(result.body)).toMatchObject({ stored: 1 })
      await stopped
    } finally {
      await service.stop()
    }
    const reopened = await openMeterFlow(config)
    try {
      const [late] = await reopened.usage.aggregateWindows('late', 'api_calls', 'sum', [
        { startMs: Date.now() - 3_600_000, endMs: Date.now() + 1 },
      ])
      expect(late?.value).toBe(1)
    } finally {
      await reopened.close()
    }
  })

  it('does not load demo data twice, nor when METERFLOW_DEMO=0', async () => {
    const config = testConfig(join(data.dir, 'svc'), {
      demo: { enabled: true, feed: false, customers: 6, days: 35 },
      http: { port: 0 },
    })
    const service = await startService(config)
    const before = await service.meterflow.usage.countEvents()
    await service.stop()
    expect(before).toBe(6 * 35 * 24 * 4 - (35 - 3) * 24 * 4 + 1)

    const empty = testConfig(join(data.dir, 'nodemo'), { demo: { enabled: false }, http: { port: 0 } })
    const quiet = await startService(empty)
    expect(await quiet.meterflow.usage.countEvents()).toBe(0)
    await quiet.stop()
    expect(existsSync(join(empty.dataDir, 'demo-labels.json'))).toBe(false)
  })
})

describe('the scheduler inside the service', () => {
  it('runs the current hour at start (catch-up) and records it', async () => {
    const config = testConfig(join(data.dir, 'sched'), {
      demo: { enabled: true, customers: 5, days: 35 },
      http: { port: 0 },
      job: { schedulerEnabled: true, schedule: 'cron(0 * * * ? *)' },
    })
    const service = await startService(config)
    try {
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString()
      let runs: { slot: string; trigger: string; status: string; checked: number }[] = []
      for (let i = 0; i < 100 && !runs.some((r) => r.status === 'completed'); i++) {
        await new Promise((r) => setTimeout(r, 100))
        runs = ((await (await fetch(`${service.url}/v1/runs`)).json()) as { items: typeof runs }).items
      }
      expect(runs[0]).toMatchObject({ slot: hour, trigger: 'schedule', status: 'completed', checked: 5 * 4 })
      const incidents = (await (await fetch(`${service.url}/v1/incidents?status=open`)).json()) as {
        items: { customer_id: string }[]
      }
      expect(incidents.items.map((i) => i.customer_id)).toEqual(
        expect.arrayContaining([SHOWCASE.spike, SHOWCASE.drop]),
      )
    } finally {
      await service.stop()
    }
  })

  it('refuses an invalid schedule expression at start', () => {
    expect(() => testConfig(join(data.dir, 'x'), { job: { schedule: 'cron(0 * * * *)' } })).toThrow(
      /job\.schedule/,
    )
  })
})

describe('the process', () => {
  it('starts from the environment and exits 0 on SIGTERM', async () => {
    const port = await freePort()
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        PORT: String(port),
        METERFLOW_DATA_DIR: join(data.dir, 'proc'),
        METERFLOW_DEMO: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (c) => {
      output += c
    })
    child.stderr?.on('data', (c) => {
      output += c
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 30_000
    while (!output.includes('listening') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(output).toContain(`127.0.0.1:${port}`)
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('refuses a bad configuration with a message naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'eighty', METERFLOW_DATA_DIR: join(data.dir, 'bad') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (c) => {
      stderr += c
    })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(1)
    expect(stderr).toMatch(/http\.port \(PORT\)/)
  })
})
