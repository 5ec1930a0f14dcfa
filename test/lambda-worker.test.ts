import { createHash, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { Logger } from '@aws-lambda-powertools/logger'
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns'
import type { SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createSnsClient } from '../src/adapters/alerts/sns/index.js'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { parseShardTask } from '../src/adapters/sqs/shard-task.js'
import { ContainerCache, openLambdaContainer } from '../src/lambda/container.js'
import { createScheduledHandler } from '../src/lambda/handler.js'
import { createShardWorker } from '../src/lambda/worker.js'
import { openMeterFlow } from '../src/wiring.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import {
  tableItems as allItems,
  captureOutput,
  type JsonLine,
  scheduledEvent,
  sqsRecord,
  lambdaContext as workerContext,
} from './lambda-fixtures.js'
import { close, listen, SNS_REGION, startSnsServer, startSubscriber, urlOf } from './local-sns.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// Sharded runs through both Lambda entry points: the coordinator (index.handler) sends shard tasks to SQS with the
// real SDK (a local server answering SendMessageBatch in SQS's JSON protocol), and the worker (index.worker) gets
// them as SQS events. No local SQS delivers messages to a function, so the test hands the sent bodies to the worker.

const HOUR = 3_600_000
const S1 = Date.UTC(2026, 10, 25, 12)
const TABLE = 'meterflow-anomalies'
const customers = Array.from({ length: 9 }, (_, i) => `wrk-${String(i + 1).padStart(2, '0')}`)
const spiking = ['wrk-02', 'wrk-05', 'wrk-08']

const data = tempDataDir()
const clock = new ManualClock(S1 + 10 * 60_000)
const sentBodies: string[] = []
let sqs: Server
let dynalite: Dynalite
let sns: Server
let subscriber: Awaited<ReturnType<typeof startSubscriber>>
let containers: ContainerCache
let handler: ReturnType<typeof createScheduledHandler>
let worker: ReturnType<typeof createShardWorker>

/** SendMessageBatch in SQS's JSON protocol (what @aws-sdk/client-sqs 3.1169 speaks): every entry accepted. */
async function startLocalSqs(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        Entries: { Id: string; MessageBody: string }[]
      }
      res.writeHead(req.headers['x-amz-target'] === 'AmazonSQS.SendMessageBatch' ? 200 : 400, {
        'content-type': 'application/x-amz-json-1.0',
      })
      const Successful = (input.Entries ?? []).map((e) => {
        sentBodies.push(e.MessageBody)
        const md5 = createHash('md5').update(e.MessageBody).digest('hex')
        return { Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5 }
      })
      res.end(JSON.stringify({ Successful, Failed: [] }))
    })
  })
  return listen(server.listen(0, '127.0.0.1'))
}

/** Runs `call`, capturing the EMF lines written meanwhile (an error is rethrown). */
async function withEmf<T>(call: () => Promise<T>): Promise<{ value: T; emf: JsonLine[] }> {
  const captured = await captureOutput(call)
  if (captured.error !== undefined) throw captured.error
  return { value: captured.result as T, emf: captured.emf }
}
const tableItems = () => allItems(dynalite.endpoint, TABLE)
const lambdaContext = () => workerContext(300_000, 'meterflow-shard-worker')

beforeAll(async () => {
  sqs = await startLocalSqs()
  dynalite = await startDynalite()
  const admin = createDynamoDbClient({ region: 'us-east-1', endpoint: dynalite.endpoint })
  await createAnomalyTable(admin, TABLE, () => {})
  admin.destroy()
  sns = await startSnsServer()
  subscriber = await startSubscriber()
  const snsAdmin = createSnsClient({ region: SNS_REGION, endpoint: urlOf(sns), env: {} })
  const topicArn = (await snsAdmin.send(new CreateTopicCommand({ Name: 'meterflow-alerts' }))).TopicArn ?? ''
  await snsAdmin.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: urlOf(subscriber.server) }),
  )
  snsAdmin.destroy()
  const config = testConfig(data.dir, {
    anomalyStore: {
      kind: 'dynamodb',
      dynamodb: { table: TABLE, region: 'us-east-1', endpoint: dynalite.endpoint },
    },
    alerts: { sns: { topicArn, endpoint: urlOf(sns) } },
    job: { schedulerEnabled: false, shards: 3, shardQueueUrl: `${urlOf(sqs)}/123456789012/meterflow-shards` },
  })
  const seeding = await openMeterFlow(config, { clock, metrics: false })
  await seeding.ingest([...steadyDaily(customers, S1 + 1), ...extra(spiking, S1 - HOUR / 2, 9000)])
  await seeding.close()
  const logger = new Logger({ serviceName: 'meterflow' })
  containers = new ContainerCache(() =>
    openLambdaContainer(config, { logger, allowEmbedded: true, clock, namespace: 'MeterFlowTest' }),
  )
  handler = createScheduledHandler({ containers, logger })
  worker = createShardWorker({ containers, logger })
}, 120_000)

afterAll(async () => {
  await containers?.close()
  await Promise.all([sqs, sns, subscriber?.server].filter(Boolean).map((s) => close(s as Server)))
  await dynalite?.stop()
  data.remove()
})

const event = scheduledEvent(S1)
const runId = `evt-${event.id}`
const metric = (emf: JsonLine[], name: string) => emf.filter((l) => name in l).map((l) => l[name])

describe('sharded runs through the Lambda entry points', () => {
  it('the coordinator records the run and sends one task per shard, once per event', async () => {
    const { value: started } = await withEmf(() => handler(event, lambdaContext()))
    expect(started).toEqual({
      statusCode: 202,
      body: { run_id: runId, shards: 3, timestamp: new Date(clock.ms).toISOString() },
    })
    expect(sentBodies).toHaveLength(3)
    const tasks = sentBodies.map(parseShardTask)
    expect(tasks.map((t) => [t.runId, t.slot, t.index, t.total])).toEqual(
      [0, 1, 2].map((i) => [runId, S1, i, 3]),
    )
    const meterflow = (await containers.get()).meterflow
    expect(await meterflow.anomalies.getRun(runId)).toMatchObject({ status: 'running', trigger: 'lambda' })
    // EventBridge delivers the event again: the run is going on, nothing is planned or sent twice.
    const { value: again } = await withEmf(() => handler(event, lambdaContext()))
    expect(again).toEqual(started)
    expect(sentBodies).toHaveLength(3)
  })

  it('the worker reports a bad record in batchItemFailures and evaluates the others', async () => {
    const [task0, task1] = sentBodies as [string, string, string]
    const bad = sqsRecord('{"runId": "not a task"}')
    const batch: SQSEvent = { Records: [sqsRecord(task0), bad, sqsRecord(task1)] }
    const { value: reply, emf } = await withEmf(() => worker(batch, lambdaContext()))
    expect(reply).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] })
    expect(metric(emf, 'ShardsEvaluated')).toEqual([[1, 1]])
    const meterflow = (await containers.get()).meterflow
    expect(await meterflow.anomalies.getRun(runId)).toMatchObject({ status: 'running' })
    expect(subscriber.notifications).toHaveLength(0)
  })

  it('the shard that completes the set finishes the run: anomalies, alerts and metrics for the whole slot', async () => {
    const [task0, , task2] = sentBodies as [string, string, string]
    // task 0 redelivered (its visibility timeout ran out) alongside the last shard.
    const { value: reply, emf } = await withEmf(() =>
      worker({ Records: [sqsRecord(task2), sqsRecord(task0, 2)] }, lambdaContext()),
    )
    expect(reply).toEqual({ batchItemFailures: [] })
    const meterflow = (await containers.get()).meterflow
    expect(await meterflow.anomalies.getRun(runId)).toMatchObject({
      status: 'completed',
      checked: customers.length,
      anomaliesFound: spiking.length,
      incidentsOpened: spiking.length,
    })
    const anomalies = (await tableItems()).filter((i) => String(i.sk).startsWith('ANOMALY#'))
    expect(anomalies.map((a) => a.customer_id).sort()).toEqual(spiking)
    for (const a of anomalies) {
      expect(a).toMatchObject({
        pk: `CUSTOMER#${a.customer_id}`,
        sk: `ANOMALY#${String(S1).padStart(13, '0')}#api_calls`,
      })
    }
    await vi.waitFor(() => expect(subscriber.notifications).toHaveLength(spiking.length), { timeout: 5_000 })
    expect(subscriber.notifications.map((n) => n.Subject).sort()).toEqual(
      spiking.map((c) => `[MeterFlow] Critical anomaly: ${c} - api_calls`),
    )
    expect(metric(emf, 'ShardsEvaluated')).toEqual([1])
    expect(metric(emf, 'RunsCompleted')).toEqual([1])
    expect(metric(emf, 'AnomaliesCritical')).toEqual([spiking.length])
    expect(metric(emf, 'AlertsSent')).toEqual([spiking.length])
  })

  it('a shard delivered again changes nothing, and the event again returns the finished run', async () => {
    const before = await tableItems()
    const { value: reply, emf } = await withEmf(() =>
      worker({ Records: [sqsRecord(sentBodies[1] as string, 3)] }, lambdaContext()),
    )
    expect(reply).toEqual({ batchItemFailures: [] })
    expect(metric(emf, 'ShardsEvaluated')).toEqual([])
    expect(await tableItems()).toEqual(before)
    const { value: replay } = await withEmf(() => handler(event, lambdaContext()))
    expect(replay).toMatchObject({
      statusCode: 200,
      body: { run_id: runId, checked: customers.length, anomalies_found: spiking.length },
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(subscriber.notifications).toHaveLength(spiking.length)
    expect(sentBodies).toHaveLength(3)
  })

  it('a batch whose every record fails is an invocation error (SQS retries it, then dead-letters it)', async () => {
    await expect(
      withEmf(() => worker({ Records: [sqsRecord('not json')] }, lambdaContext())),
    ).rejects.toThrow(/All records failed processing/)
  })
})
