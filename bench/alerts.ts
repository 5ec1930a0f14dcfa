// Alert outbox throughput: a storm-sized batch of incident alerts raised into the outbox and delivered to a local
// webhook receiver, on the embedded store (SQLite) and on DynamoDB (dynalite, in process). Run alone with
// `npx tsx bench/alerts.ts [--alerts 1000]`; `npm run bench` runs it too.

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { webhookChannel } from '../src/adapters/alerts/webhook/index.js'
import { DynamoDbAnomalyStore } from '../src/adapters/dynamodb/anomaly-store.js'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { SqliteAnomalyStore } from '../src/adapters/sqlite/anomaly-store.js'
import type { TransitionAlert } from '../src/app/alerting/raise.js'
import { AlertService } from '../src/app/alerting/service.js'
import { loadConfig } from '../src/config.js'
import { type AnomalyStore, systemClock } from '../src/ports.js'
import { incident as incidentFixture } from '../test/contract/anomaly-store.contract.js'
import { startDynalite } from '../test/dynalite.js'

export interface AlertBenchResult {
  store: string
  alerts: number
  raiseSeconds: number
  deliverSeconds: number
  alertsPerSecond: number
  delivered: number
}

const HOUR = 3_600_000

function transitions(count: number, slot: number): TransitionAlert[] {
  return Array.from({ length: count }, (_, i) => {
    const customerId = `bench-${String(i).padStart(6, '0')}`
    const incident = incidentFixture({
      id: `${customerId}|api_calls|${new Date(slot).toISOString()}`,
      customerId,
      metric: 'api_calls',
      openedAt: slot,
      severity: 'critical',
      peakZScore: 9.5,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
      lastZScore: 9.5,
    })
    const detection = {
      signal: 'volume' as const,
      slot,
      currentValue: 9500,
      baselineMean: 1000,
      baselineStddev: 50,
      zScore: 9.5,
      windowStart: slot - 24 * HOUR,
      windowEnd: slot,
    }
    return { incident, transition: 'opened' as const, detection }
  })
}

async function measure(
  name: string,
  store: AnomalyStore,
  url: string,
  count: number,
): Promise<AlertBenchResult> {
  const config = loadConfig({}, { alerts: { webhook: { url, secret: 'bench-webhook-secret-0123456789' } } })
  const channel = webhookChannel.create(config, { clock: systemClock, timeoutMs: 10_000, write: () => {} })
  if (!channel) throw new Error('webhook channel not configured')
  const alerts = new AlertService(store, [{ channel, route: webhookChannel.defaultRoute }], systemClock, {
    stormLimit: count + 1,
    jobSlowMs: 600_000,
    publicUrl: null,
    retry: { maxAttempts: 3, baseMs: 1000, maxMs: 10_000 },
    leaseMs: 60_000,
  })
  const slot = Math.floor(Date.now() / HOUR) * HOUR
  const batch = transitions(count, slot)
  // Delivery confirms each alert against its stored incident, as after a real run.
  await store.saveIncidents(batch.map((t) => t.incident))
  const raiseStart = performance.now()
  await alerts.raiseTransitions({ runId: 'bench', slot }, batch)
  const raiseSeconds = (performance.now() - raiseStart) / 1000
  const deliverStart = performance.now()
  let delivered = 0
  while (delivered < count) {
    const pass = await alerts.deliver()
    if (pass.delivered === 0)
      throw new Error(`delivery stalled at ${delivered}/${count}: ${JSON.stringify(pass)}`)
    delivered += pass.delivered
  }
  const deliverSeconds = (performance.now() - deliverStart) / 1000
  await alerts.stop()
  return {
    store: name,
    alerts: count,
    raiseSeconds,
    deliverSeconds,
    alertsPerSecond: count / deliverSeconds,
    delivered,
  }
}

export async function benchAlerts(count: number, log: (text: string) => void): Promise<AlertBenchResult[]> {
  let received = 0
  const receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      received++
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  const dir = mkdtempSync(join(tmpdir(), 'meterflow-bench-alerts-'))
  const dynalite = await startDynalite()
  const results: AlertBenchResult[] = []
  try {
    log(`alerts: ${count} incident alerts -> outbox -> webhook, SQLite`)
    const sqlite = SqliteAnomalyStore.open(join(dir, 'alerts.sqlite'), systemClock)
    results.push(await measure('SQLite (embedded)', sqlite, url, count))
    await sqlite.close()

    log(`alerts: ${count} incident alerts -> outbox -> webhook, DynamoDB (dynalite)`)
    const options = { region: 'us-east-1', endpoint: dynalite.endpoint, env: {}, clock: systemClock }
    const admin = createDynamoDbClient(options)
    await createAnomalyTable(admin, 'bench-alerts', () => {})
    admin.destroy()
    const dynamo = await DynamoDbAnomalyStore.open({ ...options, table: 'bench-alerts' })
    results.push(await measure('DynamoDB (dynalite, in process)', dynamo, url, count))
    await dynamo.close()
    if (received !== 2 * count)
      throw new Error(`the receiver got ${received} requests, expected ${2 * count}`)
  } finally {
    await dynalite.stop()
    receiver.closeAllConnections()
    await new Promise<void>((resolve) => receiver.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

export function printAlertBench(results: readonly AlertBenchResult[]): void {
  console.log('Alert outbox (storm-sized batch, one webhook channel, local receiver)')
  console.table(
    results.map((r) => ({
      store: r.store,
      alerts: r.alerts,
      'raise (outbox write) s': r.raiseSeconds.toFixed(2),
      'deliver s': r.deliverSeconds.toFixed(2),
      'alerts/s': Math.round(r.alertsPerSecond),
    })),
  )
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { alerts: { type: 'string', default: '1000' } } })
  const results = await benchAlerts(Number(values.alerts), (text) => process.stderr.write(`${text}\n`))
  printAlertBench(results)
}
