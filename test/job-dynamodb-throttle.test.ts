import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb'
import { paginateScan } from '@aws-sdk/lib-dynamodb'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { createDocumentClient, createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { DynamoThrottleProxy } from './dynamo-throttle-proxy.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import { Receiver } from './receiver.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// The detection job on the DynamoDB store while the table is throttled (a proxy before dynalite answers
// ProvisionedThroughputExceededException, or processes only part of each batch call), against the same job on
// an unthrottled table over the same usage data: both tables must end up item for item the same.

const HOUR = 3_600_000
const END = Date.UTC(2026, 10, 25, 12)
const SLOTS = [END, END + HOUR, END + 2 * HOUR]
const REGION = 'us-east-1'
const customers = Array.from({ length: 40 }, (_, i) => `throttle-${String(i).padStart(2, '0')}`)
// 30 spikes: more than one BatchWriteItem (25 items) of anomalies per run; the storm guard is set above them.
const spiking = customers.slice(0, 30)

const data = tempDataDir()
const clock = new ManualClock(END + 2 * HOUR + 60_000)
let dynalite: Dynalite
let proxy: DynamoThrottleProxy
let admin: DynamoDBClient
let clickhouse: ClickHouseClient
const receivers = { reference: new Receiver(), throttled: new Receiver() }
let reference: MeterFlow
let throttled: MeterFlow

/** One MeterFlow per table, sharing the usage store (one chDB engine per process). */
function open(table: string, endpoint: string, receiver: Receiver): Promise<MeterFlow> {
  const config = testConfig(data.dir, {
    anomalyStore: { kind: 'dynamodb', dynamodb: { table, region: REGION, endpoint } },
    alerts: { webhook: { url: receiver.url }, stormLimit: 1000 },
  })
  return openMeterFlow(config, { clock, clickhouse })
}

beforeAll(async () => {
  dynalite = await startDynalite()
  proxy = await new DynamoThrottleProxy(dynalite.endpoint).start()
  admin = createDynamoDbClient({ region: REGION, endpoint: dynalite.endpoint })
  await createAnomalyTable(admin, 'anomalies-reference', () => {})
  await createAnomalyTable(admin, 'anomalies-throttled', () => {})
  await receivers.reference.start()
  await receivers.throttled.start()
  clickhouse = await createClickHouseClient(testConfig(data.dir))
  reference = await open('anomalies-reference', dynalite.endpoint, receivers.reference)
  throttled = await open('anomalies-throttled', proxy.url, receivers.throttled)
  // One event a day at noon up to END's own (END is noon): every 24-hour window holds exactly one of them.
  await reference.ingest([...steadyDaily(customers, END + 1), ...extra(spiking, END - HOUR / 2, 9000)])
})

afterAll(async () => {
  await throttled?.anomalies.close()
  await reference?.close() // closes the shared ClickHouse client too
  admin?.destroy()
  await proxy?.stop()
  await dynalite?.stop()
  await receivers.reference.stop()
  await receivers.throttled.stop()
  data.remove()
})

/** Every item of a table, with the random parts (run ids, nonces) blanked, as sorted JSON lines. */
async function tableContents(table: string): Promise<string[]> {
  const lines: string[] = []
  const doc = createDocumentClient(admin)
  for await (const page of paginateScan({ client: doc }, { TableName: table, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const sorted = Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      lines.push(
        JSON.stringify(sorted).replace(
          /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
          '<uuid>',
        ),
      )
    }
  }
  return lines.sort()
}

const kinds = (lines: readonly string[]) => {
  const count: Record<string, number> = {}
  for (const line of lines) {
    const pk = (JSON.parse(line) as { pk: string }).pk.split('#')[0] as string
    count[pk] = (count[pk] ?? 0) + 1
  }
  return count
}

describe('the throttling proxy', () => {
  it("answers DynamoDB's own throttling error, and leaves a batch's held-back part really unwritten", async () => {
    const raw = createDynamoDbClient({ region: REGION, endpoint: proxy.url, maxAttempts: 1 })
    try {
      proxy.throttleNext(1)
      const refused = await raw
        .send(new DescribeTableCommand({ TableName: 'anomalies-throttled' }))
        .catch((err: unknown) => err)
      expect(refused).toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      })
      await raw.send(new DescribeTableCommand({ TableName: 'anomalies-throttled' }))

      proxy.partialBatches(1, 1)
      const put = (sk: string) => ({ PutRequest: { Item: { pk: { S: 'PROXY_CHECK' }, sk: { S: sk } } } })
      const out = await raw.send(
        new BatchWriteItemCommand({
          RequestItems: { 'anomalies-reference': [put('a'), put('b'), put('c')] },
        }),
      )
      expect(out.UnprocessedItems?.['anomalies-reference']).toEqual([put('b'), put('c')])
      const stored = async (sk: string) =>
        (
          await admin.send(
            new GetItemCommand({
              TableName: 'anomalies-reference',
              Key: { pk: { S: 'PROXY_CHECK' }, sk: { S: sk } },
            }),
          )
        ).Item !== undefined
      expect([await stored('a'), await stored('b'), await stored('c')]).toEqual([true, false, false])
      // Leave the reference table as the job alone writes it.
      await admin.send(
        new BatchWriteItemCommand({
          RequestItems: {
            'anomalies-reference': [{ DeleteRequest: { Key: { pk: { S: 'PROXY_CHECK' }, sk: { S: 'a' } } } }],
          },
        }),
      )
    } finally {
      proxy.reset()
      raw.destroy()
    }
  })
})

describe('the detection job on a throttled DynamoDB table', () => {
  it('completes every run and stores every anomaly, incident, run and alert once, as unthrottled', async () => {
    // Unthrottled: three hourly slots, a replay of the middle one, then delivery.
    for (const slot of [...SLOTS, SLOTS[1] as number]) {
      expect((await reference.job.runNow(slot, 'api')).run.status).toBe('completed')
    }
    await reference.alerts.deliver()

    // The same through the proxy, each step under a different kind of throttling.
    const writes = ['BatchWriteItem', 'PutItem', 'UpdateItem', 'DeleteItem']
    const steps: [string, () => void, number][] = [
      ['the first 3 requests refused', () => proxy.throttleNext(3), SLOTS[0] as number],
      ['every request refused for 3 s', () => proxy.throttleFor(3_000), SLOTS[1] as number],
      ['every batch call processes 1 item', () => proxy.partialBatches(10_000, 1), SLOTS[2] as number],
      [
        '4 writes refused, batch calls process 5 items',
        () => {
          proxy.throttleNext(4, writes)
          proxy.partialBatches(10_000, 5)
        },
        SLOTS[1] as number,
      ],
    ]
    for (const [name, throttle, slot] of steps) {
      throttle()
      const before = proxy.log.length
      const started = Date.now()
      const { run } = await throttled.job.runNow(slot, 'api')
      proxy.reset()
      const seen = proxy.log.slice(before)
      const hits = seen.filter((e) => e.outcome !== 'forwarded').length
      console.log(
        `${name}: ${seen.length} requests, ${hits} throttled or partial, run ${run.status} in ${Date.now() - started} ms`,
      )
      expect(run.status, `${name}: ${run.error}`).toBe('completed')
      expect(hits, name).toBeGreaterThan(0)
    }
    expect(proxy.count('partial', 'BatchWriteItem')).toBeGreaterThan(0)
    expect(proxy.count('partial', 'BatchGetItem')).toBeGreaterThan(0)
    proxy.throttleNext(3)
    await throttled.alerts.deliver()
    proxy.reset()

    const [expected, actual] = [
      await tableContents('anomalies-reference'),
      await tableContents('anomalies-throttled'),
    ]
    console.log('items by partition:', kinds(actual))
    // An anomaly per spiking customer and slot, an incident and an opening alert (one channel) per customer.
    expect(kinds(expected)).toMatchObject({
      CUSTOMER: SLOTS.length * spiking.length,
      INCIDENT: spiking.length,
      ALERTS: spiking.length,
    })
    expect(actual).toEqual(expected)

    // The delivery id a receiver deduplicates on (Standard Webhooks' webhook-id, or the earlier header).
    const alertIds = (r: Receiver) =>
      r.received.map((x) => String(x.headers['webhook-id'] ?? x.headers['x-meterflow-event-id'])).sort()
    expect(alertIds(receivers.reference)).toHaveLength(spiking.length)
    expect(alertIds(receivers.throttled)).toEqual(alertIds(receivers.reference))
  }, 240_000)
})
