import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { slackChannel } from '../src/adapters/alerts/slack/index.js'
import { webhookChannel } from '../src/adapters/alerts/webhook/index.js'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import { AlertService } from '../src/app/alerting/service.js'
import { loadConfig } from '../src/config.js'
import type { Incident } from '../src/domain/incident.js'
import type { AlertChannel } from '../src/ports.js'
import { incident } from './contract/anomaly-store.contract.js'
import { ManualClock, tempDataDir } from './helpers.js'
import { Receiver } from './receiver.js'

// The delivery worker over the real SQLite outbox and two real channels with local receivers, without the usage
// store: how channels share a delivery pass.

const HOUR = 3_600_000
const SLOT = Date.UTC(2026, 10, 25, 10)
// Fresh receivers (fresh ports) per test: a client's kept-alive socket to a restarted port fails once.
let slack: Receiver
let webhook: Receiver
let data: ReturnType<typeof tempDataDir>
let store: SqliteAnomalyStore
let clock: ManualClock
let alerts: AlertService

const incidentOf = (customerId: string): Incident =>
  incident({
    id: `${customerId}|api_calls|${new Date(SLOT).toISOString()}`,
    customerId,
    metric: 'api_calls',
    openedAt: SLOT,
    severity: 'critical',
    peakZScore: 8,
    openedBySignal: 'volume',
    firingSignals: ['volume'],
    lastZScore: 8,
  })

async function raise(customers: string[]) {
  const incidents = customers.map(incidentOf)
  await store.saveIncidents(incidents)
  const detection = {
    signal: 'volume' as const,
    slot: SLOT,
    currentValue: 9000,
    baselineMean: 1000,
    baselineStddev: 100,
    zScore: 8,
    windowStart: SLOT - 24 * HOUR,
    windowEnd: SLOT,
  }
  await alerts.raiseTransitions(
    { runId: 'r', slot: SLOT },
    incidents.map((i) => ({ incident: i, transition: 'opened' as const, detection })),
  )
}

beforeEach(async () => {
  slack = await new Receiver().start()
  webhook = await new Receiver().start()
  data = tempDataDir()
  clock = new ManualClock(SLOT + 60_000)
  store = SqliteAnomalyStore.open(join(data.dir, 'alerts.sqlite'), clock)
  const config = loadConfig(
    {},
    { alerts: { slack: { webhookUrl: slack.url }, webhook: { url: webhook.url } } },
  )
  const context = { clock, timeoutMs: 2000, write: () => {} }
  const channels = [slackChannel, webhookChannel].map((registration) => ({
    channel: registration.create(config, context) as AlertChannel,
    route: registration.defaultRoute,
  }))
  alerts = new AlertService(store, channels, clock, {
    stormLimit: 1000,
    jobSlowMs: 600_000,
    publicUrl: null,
    retry: { maxAttempts: 5, baseMs: 1000, maxMs: 60_000 },
    leaseMs: 60_000,
  })
})

afterEach(async () => {
  await alerts.stop()
  await store.close()
  await slack.stop()
  await webhook.stop()
  data.remove()
})

describe('a delivery pass', () => {
  it('keeps sending to a healthy channel while another is down, and tries the down one once per pass', async () => {
    slack.behaviour = { status: 503 }
    await raise(Array.from({ length: 150 }, (_, i) => `c${String(i).padStart(3, '0')}`))
    const pass = await alerts.deliver()
    expect(pass).toMatchObject({ delivered: 150, retrying: 1 })
    expect(webhook.received).toHaveLength(150)
    expect(slack.received).toHaveLength(1)

    slack.behaviour = { status: 200 }
    clock.ms += 2000
    const next = await alerts.deliver()
    expect(next.delivered).toBe(150)
    expect(slack.received).toHaveLength(151)
    expect(new Set(webhook.received.map((r) => r.headers['webhook-id'])).size).toBe(150)
  })

  it('never touches deliveries of a channel this process is not configured for', async () => {
    await raise(['solo'])
    const onlyWebhook = new AlertService(
      store,
      [{ channel: alerts.channels[1]?.channel as AlertChannel, route: webhookChannel.defaultRoute }],
      clock,
      {
        stormLimit: 1000,
        jobSlowMs: 600_000,
        publicUrl: null,
        retry: { maxAttempts: 5, baseMs: 1000, maxMs: 60_000 },
        leaseMs: 60_000,
      },
    )
    expect(await onlyWebhook.deliver()).toMatchObject({ delivered: 1, deferred: 0 })
    const pendingSlack = await store.alerts.due(clock.ms, 10, 'slack')
    expect(pendingSlack).toHaveLength(1)
    expect(pendingSlack[0]).toMatchObject({ attempts: 0, lastError: null })
  })
})
