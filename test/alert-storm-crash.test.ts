import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openMeterFlow } from '../src/wiring.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import { Receiver } from './receiver.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// Two failure modes that need a process of their own: a run that opens 200 incidents at once (storm guard),
// and a process killed while it delivers (the outbox survives it). One chDB data directory per test process:
// the storm and the crash share it, each on its own customers and slots.

const HOUR = 3_600_000
const data = tempDataDir()
const receiver = new Receiver()
afterAll(async () => {
  await receiver.stop()
  data.remove()
})

const cli = (args: string[], env: Record<string, string>) =>
  spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...process.env, METERFLOW_DATA_DIR: data.dir, METERFLOW_DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })

describe('alerting under failure', () => {
  it('a process killed mid-delivery delivers on restart, once; a storm of 200 openings sends one summary', async () => {
    await receiver.start()
    // The CLI runs on the real clock: the slot is the current hour, the spike half an hour before it.
    const slot = Math.floor(Date.now() / HOUR) * HOUR
    const events = [...steadyDaily(['crash-co'], slot), ...extra(['crash-co'], slot - HOUR / 2, 9000)]
    const file = join(data.dir, 'usage.ndjson')
    writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
    const ingest = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'ingest', file], {
      env: { ...process.env, METERFLOW_DATA_DIR: data.dir },
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(ingest.status, ingest.stderr).toBe(0)

    // The receiver takes the request and never answers; the moment it arrives, the sender is killed -9.
    receiver.behaviour = 'hang'
    const child = cli(['job', 'run', '--slot', new Date(slot).toISOString()], {
      METERFLOW_WEBHOOK_URL: receiver.url,
    })
    const arrived = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (receiver.received.length > 0) {
          clearInterval(timer)
          resolve()
        }
      }, 20)
    })
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal ? -9 : _code)),
    )
    await Promise.race([arrived, exited])
    child.kill('SIGKILL')
    expect(await exited).toBe(-9)
    expect(receiver.received).toHaveLength(1)
    const eventId = receiver.received[0]?.headers['webhook-id']
    expect(eventId).toMatch(/^msg_/)

    // Restart (later than the dead attempt's lease) with the receiver healthy again.
    receiver.behaviour = { status: 200 }
    const clock = new ManualClock(Date.now() + 10 * 60_000)
    const meterflow = await openMeterFlow(
      testConfig(data.dir, { alerts: { webhook: { url: receiver.url }, stormLimit: 50 } }),
      { clock },
    )
    try {
      const [pending] = (await meterflow.anomalies.alerts.list({ limit: 10 })).items
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, channel: 'webhook' })
      expect(await meterflow.alerts.deliver()).toMatchObject({ delivered: 1 })
      expect(await meterflow.alerts.deliver()).toMatchObject({ delivered: 0 })
      expect(receiver.received).toHaveLength(2)
      expect(receiver.received[1]?.headers['webhook-id']).toBe(eventId)

      // ---- Storm: 200 customers spike in one run -> 200 held openings, one summary to the ops route.
      const stormSlot = slot + 2 * HOUR
      const customers = Array.from({ length: 200 }, (_, i) => `storm-${String(i).padStart(3, '0')}`)
      clock.ms = stormSlot + 60_000
      await meterflow.ingest(
        steadyDaily(customers, stormSlot).concat(extra(customers, stormSlot - HOUR / 2, 9000)),
      )
      const before = receiver.received.length
      const outcome = await meterflow.job.runNow(stormSlot, 'api')
      expect(outcome.run.status).toBe('completed')
      expect(outcome.run.incidentsOpened).toBe(200)
      await meterflow.alerts.deliver()
      const sent = receiver.received.slice(before)
      expect(sent).toHaveLength(1)
      expect(sent[0]?.json).toMatchObject({ type: 'storm', data: { storm: { opened: 200, limit: 50 } } })
      const held = await meterflow.anomalies.alerts.list({ status: 'held', limit: 1000 })
      expect(held.items).toHaveLength(200)
      expect(held.items[0]?.lastError).toMatch(/storm guard: 200 incidents/)
    } finally {
      await meterflow.close()
    }
  }, 180_000)
})
