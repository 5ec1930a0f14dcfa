import type { Server } from 'node:http'
import { Logger } from '@aws-lambda-powertools/logger'
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns'
import type { Context, ScheduledEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createSnsClient } from '../src/adapters/alerts/sns/index.js'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import type { Config } from '../src/config.js'
import { ValidationError } from '../src/errors.js'
import { ContainerCache, openLambdaContainer } from '../src/lambda/container.js'
import { createScheduledHandler, RunFailedError, type ScheduledResult } from '../src/lambda/handler.js'
import { openMeterFlow } from '../src/wiring.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import {
  tableItems as allItems,
  captureOutput,
  emfMetric,
  lambdaContext,
  scheduledEvent,
} from './lambda-fixtures.js'
import { close, SNS_REGION, startSnsServer, startSubscriber, urlOf } from './local-sns.js'
import { extra, steadyDaily } from './usage-fixtures.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const S1 = Date.UTC(2026, 10, 25, 12)
const S2 = S1 + DAY
const TABLE = 'meterflow-anomalies'
const customers = Array.from({ length: 8 }, (_, i) => `lam-${String(i + 1).padStart(2, '0')}`)
const criticalAtS1 = ['lam-01', 'lam-02', 'lam-03']
const warningAtS1 = ['lam-04']
const criticalAtS2 = ['lam-05', 'lam-06']

const data = tempDataDir()
const clock = new ManualClock(S1 + 10 * 60_000)
let dynalite: Dynalite
let sns: Server
let subscriber: Awaited<ReturnType<typeof startSubscriber>>
let snsAdmin: SNSClient
let config: Config
let containers: ContainerCache
let opened = 0
let failNextOpen = false
let handler: ReturnType<typeof createScheduledHandler>

/** Invokes the handler, capturing the EMF and log lines it writes. */
const invoke = (event: unknown, context: Context) =>
  captureOutput<ScheduledResult>(() => handler(event as ScheduledEvent, context))
const emf = emfMetric
const tableItems = () => allItems(dynalite.endpoint, TABLE)

const anomalyItems = async (slot?: number) =>
  (await tableItems()).filter(
    (i) => String(i.sk).startsWith('ANOMALY#') && (slot === undefined || i.detected_at === slot),
  )
const subjects = () => subscriber.notifications.map((n) => String(n.Subject))
/** SNS delivers to the subscriber after Publish returns: wait for `count`, or a moment when nothing should come. */
async function notificationsSettle(count: number) {
  await vi.waitFor(() => expect(subscriber.notifications).toHaveLength(count), { timeout: 5_000 })
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect(subscriber.notifications).toHaveLength(count)
}

beforeAll(async () => {
  dynalite = await startDynalite()
  const admin = createDynamoDbClient({ region: 'us-east-1', endpoint: dynalite.endpoint })
  await createAnomalyTable(admin, TABLE, () => {})
  admin.destroy()
  sns = await startSnsServer()
  subscriber = await startSubscriber()
  snsAdmin = createSnsClient({ region: SNS_REGION, endpoint: urlOf(sns), env: {} })
  const topicArn = (await snsAdmin.send(new CreateTopicCommand({ Name: 'meterflow-alerts' }))).TopicArn ?? ''
  await snsAdmin.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: urlOf(subscriber.server) }),
  )
  config = testConfig(data.dir, {
    // The summary of a run is logged at info (the level the container gives the shared logger).
    logLevel: 'info',
    anomalyStore: {
      kind: 'dynamodb',
      dynamodb: { table: TABLE, region: 'us-east-1', endpoint: dynalite.endpoint },
    },
    alerts: { sns: { topicArn, endpoint: urlOf(sns) } },
  })
  // Usage seeded (and the schema migrated: the Lambda only verifies it) by a separate MeterFlow, then closed.
  const seeding = await openMeterFlow(config, { clock, metrics: false })
  await seeding.ingest([
    ...steadyDaily(customers, S1 + 1),
    ...extra(criticalAtS1, S1 - HOUR / 2, 9000),
    ...extra(warningAtS1, S1 - HOUR / 2, 210),
  ])
  await seeding.close()
  // One logger for the container and the handler, as in the deployed bundle.
  const logger = new Logger({ serviceName: 'meterflow' })
  containers = new ContainerCache(async () => {
    opened++
    if (failNextOpen) {
      failNextOpen = false
      throw new Error('DynamoDB endpoint unreachable (injected)')
    }
    return openLambdaContainer(config, {
      logger,
      namespace: 'MeterFlowTest',
      allowEmbedded: true,
      clock,
    })
  })
  handler = createScheduledHandler({ containers, logger })
}, 120_000)

afterAll(async () => {
  await containers?.close()
  snsAdmin?.destroy()
  await Promise.all([sns, subscriber?.server].filter(Boolean).map((s) => close(s as Server)))
  await dynalite?.stop()
  data.remove()
})

describe('the Lambda handler (EventBridge ScheduledEvent) on chDB, dynalite and local SNS', () => {
  const eventA = scheduledEvent(S1)
  let first: ScheduledResult

  it('refuses a malformed event with a clear error, opening and writing nothing', async () => {
    for (const bad of [
      { ...eventA, time: 'yesterday' },
      { ...eventA, time: undefined },
      { ...eventA, id: '' },
      null,
    ]) {
      const { error, result, logs, emf: metrics } = await invoke(bad, lambdaContext(300_000))
      expect(result).toBeUndefined()
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as Error).message).toMatch(/^invalid scheduled event: .*; nothing was run$/)
      expect(logs).toMatchObject([
        { level: 'ERROR', message: 'scheduled run failed', error: { name: 'ValidationError' } },
      ])
      expect(metrics).toEqual([])
    }
    const { error } = await invoke({ ...eventA, time: '2026-11-25 12:00' }, lambdaContext(300_000))
    expect((error as ValidationError).details).toEqual([
      { field: 'time', reason: 'must be an ISO 8601 UTC time like 2026-11-25T12:00:00Z' },
    ])
    expect(opened).toBe(0)
    expect(await tableItems()).toEqual([])
  })

  it('opens the container again on the next invocation after a failed opening', async () => {
    failNextOpen = true
    const failed = await invoke(eventA, lambdaContext(300_000))
    expect(String(failed.error)).toContain('DynamoDB endpoint unreachable (injected)')
    expect(opened).toBe(1)
    expect(await tableItems()).toEqual([])
    // The next invocation (below) opens it for real: opened becomes 2, and stays 2 afterwards.
  })

  it("runs the event's slot: the seed's body, the seed's keys, critical anomalies to SNS, EMF metrics", async () => {
    const { result, error, emf: metrics, logs } = await invoke(eventA, lambdaContext(300_000))
    expect(error).toBeUndefined()
    expect(opened).toBe(2)
    first = result as ScheduledResult
    const runId = `evt-${eventA.id}`
    expect(first).toEqual({
      statusCode: 200,
      body: {
        checked: customers.length,
        anomalies_found: criticalAtS1.length + warningAtS1.length,
        // The run's start, ISO 8601 UTC (the seed's `new Date(now).toISOString()`).
        timestamp: new Date(clock.ms).toISOString(),
        run_id: runId,
        duration_ms: 0,
      },
    })

    const anomalies = await anomalyItems(S1)
    expect(anomalies.map((a) => a.customer_id).sort()).toEqual([...criticalAtS1, ...warningAtS1])
    for (const item of anomalies) {
      expect(item).toMatchObject({
        pk: `CUSTOMER#${item.customer_id}`,
        sk: `ANOMALY#${String(S1).padStart(13, '0')}#api_calls`,
        metric: 'api_calls',
        detected_at: S1,
        severity: warningAtS1.includes(String(item.customer_id)) ? 'warning' : 'critical',
      })
      for (const field of ['current_value', 'baseline_mean', 'baseline_stddev', 'z_score', 'ttl']) {
        expect(typeof item[field], field).toBe('number')
      }
      // 90 days after the run, in epoch seconds.
      expect(item.ttl).toBe(Math.floor(clock.ms / 1000) + 90 * 24 * 3600)
    }
    const run = (await tableItems()).find((i) => i.run_id === runId || String(i.sk).includes(runId))
    expect(run, 'the run record').toBeDefined()

    // The critical ones, each published once with the seed's subject; not the warning.
    await notificationsSettle(criticalAtS1.length)
    expect(subjects().sort()).toEqual(
      criticalAtS1.map((c) => `[MeterFlow] Critical anomaly: ${c} - api_calls`),
    )

    expect(emf(metrics, 'RunsCompleted')).toEqual({ value: 1, unit: 'Count', namespace: 'MeterFlowTest' })
    expect(emf(metrics, 'RunsFailed').value).toBe(0)
    expect(emf(metrics, 'SeriesChecked').value).toBe(customers.length)
    expect(emf(metrics, 'AnomaliesFound').value).toBe(4)
    expect(emf(metrics, 'AnomaliesCritical').value).toBe(3)
    expect(emf(metrics, 'AnomaliesWarning').value).toBe(1)
    expect(emf(metrics, 'IncidentsOpened').value).toBe(4)
    expect(emf(metrics, 'RunDuration')).toMatchObject({ unit: 'Milliseconds' })
    expect(emf(metrics, 'AlertsSent', { channel: 'sns' }).value).toBe(3)
    expect(emf(metrics, 'AlertsFailed', { channel: 'sns' }).value).toBe(0)
    expect(emf(metrics, 'OpenIncidents').value).toBe(4)
    const summary = logs.find((l) => l.message === 'detection run completed')
    expect(summary).toMatchObject({
      level: 'INFO',
      service: 'meterflow',
      function_name: 'meterflow-run',
      run_id: runId,
      run: { run_id: runId, status: 'completed', checked: 8, anomalies_found: 4 },
      alerts: { delivered: 3, failed: 0 },
    })
  })

  it('does nothing more for the same event again (EventBridge redelivery, Lambda retry)', async () => {
    const before = await tableItems()
    const again = await invoke(eventA, lambdaContext(300_000))
    expect(again.error).toBeUndefined()
    expect(again.result).toEqual(first)
    expect(await tableItems()).toEqual(before)
    await notificationsSettle(criticalAtS1.length)
    expect(again.logs.map((l) => l.message)).toContain(
      'run already completed for this event: returning its figures',
    )
    expect(opened).toBe(2)
  })

  it('records a second event for the same slot as its own run, storing and alerting nothing again', async () => {
    const before = await tableItems()
    const eventB = scheduledEvent(S1)
    const second = await invoke(eventB, lambdaContext(300_000))
    expect(second.error).toBeUndefined()
    expect(second.result).toMatchObject({
      statusCode: 200,
      body: { checked: 8, anomalies_found: 4, run_id: `evt-${eventB.id}` },
    })
    // Only the new run's record (the store keeps a run as two items: by id, and in the runs listing).
    const added = (await tableItems()).filter((i) => !before.some((b) => b.pk === i.pk && b.sk === i.sk))
    expect(added.length).toBeGreaterThan(0)
    for (const item of added) {
      expect(item).toMatchObject({
        run_id: `evt-${eventB.id}`,
        status: 'completed',
        anomalies_stored: 0,
        incidents_opened: 0,
      })
    }
    expect(await anomalyItems()).toHaveLength(4)
    await notificationsSettle(criticalAtS1.length)
    expect(emf(second.emf, 'IncidentsOpened').value).toBe(0)
  })

  it('stops a run that is out of time, records it failed and alerts ops; the retry completes it once', async () => {
    clock.ms = S2 + 10 * 60_000
    const meterflow = (await containers.get()).meterflow
    // A day later: the next day's usage, with two new spikes.
    await meterflow.ingest([
      ...steadyDaily(customers, S2 + 1, 2),
      ...extra(criticalAtS2, S2 - HOUR / 2, 9000),
    ])
    const eventC = scheduledEvent(S2)
    const runId = `evt-${eventC.id}`
    // Less time left than the safety margin: the run stops before its first chunk.
    const late = await invoke(eventC, lambdaContext(5_000))
    expect(late.error).toBeInstanceOf(RunFailedError)
    expect((late.error as Error).message).toMatch(
      new RegExp(`^detection run ${runId} for slot .* failed: out of time`),
    )
    expect(await meterflow.anomalies.getRun(runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^out of time/),
    })
    expect(await anomalyItems(S2)).toEqual([])
    expect(emf(late.emf, 'RunsFailed').value).toBe(1)
    await notificationsSettle(criticalAtS1.length + 1)
    expect(subjects().at(-1)).toBe(`[MeterFlow] Detection job failed (run ${runId})`)

    // Lambda's async retry: the same event, with time.
    const retry = await invoke(eventC, lambdaContext(300_000))
    expect(retry.error).toBeUndefined()
    expect(retry.result).toMatchObject({ statusCode: 200, body: { run_id: runId, anomalies_found: 2 } })
    expect(await meterflow.anomalies.getRun(runId)).toMatchObject({ status: 'completed', error: null })
    expect((await anomalyItems(S2)).map((a) => a.customer_id).sort()).toEqual(criticalAtS2)
    const opened = criticalAtS2.map((c) => `[MeterFlow] Critical anomaly: ${c} - api_calls`)
    await notificationsSettle(criticalAtS1.length + 1 + criticalAtS2.length)
    expect(subjects().slice(-2).sort()).toEqual(opened)

    // And once more: nothing new.
    const before = await tableItems()
    expect((await invoke(eventC, lambdaContext(300_000))).result).toEqual(retry.result)
    expect(await tableItems()).toEqual(before)
    await notificationsSettle(criticalAtS1.length + 1 + criticalAtS2.length)
  })

  it('leaves alone an event whose run is going on in another invocation', async () => {
    const eventD = scheduledEvent(S2)
    const meterflow = (await containers.get()).meterflow
    await meterflow.anomalies.saveRun({
      runId: `evt-${eventD.id}`,
      slot: S2,
      status: 'running',
      startedAt: clock.ms - 60_000,
      finishedAt: null,
      durationMs: null,
      checked: 0,
      customers: 0,
      anomaliesFound: 0,
      anomaliesStored: 0,
      insufficientData: 0,
      incidentsOpened: 0,
      incidentsEscalated: 0,
      incidentsResolved: 0,
      trigger: 'lambda',
      error: null,
    })
    const before = await tableItems()
    const duplicate = await invoke(eventD, lambdaContext(300_000))
    expect(duplicate.result).toMatchObject({
      statusCode: 202,
      body: { run_id: `evt-${eventD.id}`, status: 'running' },
    })
    expect(await tableItems()).toEqual(before)
    // Started longer ago than the function can run: that invocation is dead, this one runs the slot.
    clock.ms += 6 * 60_000
    const takeover = await invoke(eventD, lambdaContext(300_000))
    expect(takeover.result).toMatchObject({
      statusCode: 200,
      body: { run_id: `evt-${eventD.id}`, anomalies_found: 2 },
    })
    expect(await anomalyItems(S2)).toHaveLength(2)
  })
})
