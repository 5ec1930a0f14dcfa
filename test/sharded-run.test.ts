import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { paginateScan } from '@aws-sdk/lib-dynamodb'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseClient } from '../src/adapters/clickhouse/client.js'
import { createDocumentClient, createDynamoDbClient } from '../src/adapters/dynamodb/client.js'
import { createAnomalyTable } from '../src/adapters/dynamodb/table.js'
import type { ShardTask } from '../src/domain/shard.js'
import { OutOfTimeError } from '../src/errors.js'
import type { ShardQueue } from '../src/ports.js'
import { type MeterFlow, openMeterFlow } from '../src/wiring.js'
import { type Dynalite, startDynalite } from './dynalite.js'
import { ManualClock, tempDataDir, testConfig } from './helpers.js'
import { Receiver } from './receiver.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// A sharded run (coordinator -> one task per customer range -> workers, in any order, some twice, one failing
// first) against an unsharded run over the same usage data, each on its own DynamoDB table (dynalite, real SDK):
// both tables must end up item for item the same (the shards' own bookkeeping aside), alerts included.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
const REGION = 'us-east-1'
const customers = Array.from({ length: 40 }, (_, i) => `shard-${String(i).padStart(2, '0')}`)
// 12 spikes spread over the customer space: more than the storm limit (5) in the run, fewer in any one shard.
const spiking = customers.filter((_, i) => i % 3 === 1)
const STORM_LIMIT = 5
const SHARDS = 4

/** The tasks a coordinator sent, for the test to deliver like SQS would: any order, at least once. */
class CollectingQueue implements ShardQueue {
  readonly sent: ShardTask[] = []
  async send(tasks: readonly ShardTask[]): Promise<void> {
    this.sent.push(...tasks.map((t) => structuredClone(t)))
  }
}

const data = tempDataDir()
const clock = new ManualClock(END + 60_000)
const queue = new CollectingQueue()
const receivers = { reference: new Receiver(), sharded: new Receiver() }
let dynalite: Dynalite
let admin: DynamoDBClient
let clickhouse: ClickHouseClient
let reference: MeterFlow
let sharded: MeterFlow

function open(table: string, receiver: Receiver, shards: number): Promise<MeterFlow> {
  const config = testConfig(data.dir, {
    anomalyStore: { kind: 'dynamodb', dynamodb: { table, region: REGION, endpoint: dynalite.endpoint } },
    alerts: { webhook: { url: receiver.url }, stormLimit: STORM_LIMIT },
    // Shape on: its per-chunk profile queries must split by shard exactly as volume's series do.
    detection: { shape: { enabled: true } },
    job: {
      schedulerEnabled: false,
      shards,
      shardQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/shards',
    },
  })
  return openMeterFlow(config, { clock, clickhouse, shardQueue: queue })
}

beforeAll(async () => {
  dynalite = await startDynalite()
  admin = createDynamoDbClient({ region: REGION, endpoint: dynalite.endpoint })
  await createAnomalyTable(admin, 'anomalies-reference', () => {})
  await createAnomalyTable(admin, 'anomalies-sharded', () => {})
  await receivers.reference.start()
  await receivers.sharded.start()
  clickhouse = await createClickHouseClient(testConfig(data.dir))
  reference = await open('anomalies-reference', receivers.reference, 1)
  sharded = await open('anomalies-sharded', receivers.sharded, SHARDS)
  await reference.ingest([...steadyDaily(customers, END + 1), ...extra(spiking, END - HOUR / 2, 9000)])
})

afterAll(async () => {
  await sharded?.anomalies.close()
  await reference?.close() // closes the shared ClickHouse client too
  admin?.destroy()
  await dynalite?.stop()
  await receivers.reference.stop()
  await receivers.sharded.stop()
  data.remove()
})

/** Every item of a table but the shards' bookkeeping, run ids blanked, as sorted JSON lines. */
async function tableContents(table: string): Promise<string[]> {
  const lines: string[] = []
  for await (const page of paginateScan(
    { client: createDocumentClient(admin) },
    { TableName: table, ConsistentRead: true },
  )) {
    for (const item of page.Items ?? []) {
      if (/^(SHARD#|SHARDPART#|FINISH$)/.test(String(item.sk))) continue
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

/** Runs one slot sharded: the coordinator, then the tasks in reverse order, some twice; one run finishes it. */
async function runSharded(slot: number): Promise<void> {
  const start = await sharded.startShardedRun(slot, 'lambda')
  expect(start.run.status, start.run.error ?? '').toBe('running')
  const tasks = queue.sent.splice(0).filter((t) => t.runId === start.run.runId)
  expect(tasks).toHaveLength(start.shards)
  const finishers: string[] = []
  const order = [...tasks].reverse()
  // SQS delivers at least once: the first task again before the others, and after the run finished.
  for (const task of [order[0] as ShardTask, ...order]) {
    const outcome = await sharded.runShard(task)
    if (outcome.finished) {
      finishers.push(outcome.finished.run.runId)
      await outcome.finished.delivery
    }
  }
  expect(finishers).toEqual([start.run.runId])
  expect(await sharded.runShard(tasks[0] as ShardTask)).toEqual({ shard: 'duplicate', finished: null })
}

describe('a sharded run', () => {
  it('plans ranges that split the customers', async () => {
    const ranges = await sharded.usage.customerRanges(SHARDS)
    expect(ranges).toHaveLength(SHARDS)
    expect(ranges[0]?.from).toBe('')
    expect(ranges.at(-1)?.to).toBe('')
  })

  it('gives exactly the anomalies, incidents, runs and alerts of an unsharded run', async () => {
    // Slot 1 opens 12 incidents: a storm for the run, though no shard alone has more than the limit.
    const first = await reference.runSlot(END, 'lambda', 'refuse')
    await first.delivery
    expect(first.run).toMatchObject({ status: 'completed', incidentsOpened: spiking.length })
    await runSharded(END)

    // Slot 2, a day later: the spikes leave the window; after two clean runs the incidents resolve.
    for (const slot of [END + DAY, END + DAY + HOUR]) {
      clock.ms = slot + 60_000
      await (await reference.runSlot(slot, 'lambda', 'refuse')).delivery
      await runSharded(slot)
    }
    const [expected, actual] = [
      await tableContents('anomalies-reference'),
      await tableContents('anomalies-sharded'),
    ]
    expect(actual).toEqual(expected)
    // The run records agree too (the table comparison blanks run ids, not counts); slot 1 was a storm.
    const counts = async (m: MeterFlow) =>
      (await m.anomalies.listRuns({ limit: 10 })).items.map((r) => [
        r.slot,
        r.status,
        r.checked,
        r.anomaliesFound,
        r.incidentsOpened,
        r.incidentsResolved,
      ])
    expect(await counts(sharded)).toEqual(await counts(reference))
    // Each spike (9000 at 11:30 on a day whose usage is a noon event) moves the day's hours too: a volume and a
    // shape record per spiking series, one incident each.
    expect((await counts(sharded)).at(-1)).toEqual([
      END,
      'completed',
      40,
      2 * spiking.length,
      spiking.length,
      0,
    ])
    // What reached the receivers: the storm summary (openings held) and the resolutions, the same on both sides.
    const received = (r: Receiver) =>
      r.received
        .map((q) => q.body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'))
        .sort()
    expect(received(receivers.sharded)).toEqual(received(receivers.reference))
    expect(receivers.sharded.received.length).toBeGreaterThan(0)
  })

  it('retries a shard that ran out of time, and finishes the run once', async () => {
    const slot = END + DAY + 2 * HOUR
    clock.ms = slot + 60_000
    const start = await sharded.startShardedRun(slot, 'lambda')
    const tasks = queue.sent.splice(0)
    const [head, ...rest] = tasks as [ShardTask, ...ShardTask[]]
    await expect(sharded.runShard(head, { deadline: clock.ms - 1 })).rejects.toBeInstanceOf(OutOfTimeError)
    for (const task of rest) expect((await sharded.runShard(task)).finished).toBeNull()
    const retried = await sharded.runShard(head)
    expect(retried.shard).toBe('evaluated')
    expect(retried.finished?.run).toMatchObject({ runId: start.run.runId, status: 'completed', checked: 40 })
    await retried.finished?.delivery
  })

  it('refuses a shard task of a run that was never started', async () => {
    const task = { ...(await planOne()), runId: 'not-a-run' }
    await expect(sharded.runShard(task)).rejects.toThrow(/not recorded/)
  })
})

async function planOne(): Promise<ShardTask> {
  const slot = END + DAY + 3 * HOUR
  clock.ms = slot + 60_000
  await sharded.startShardedRun(slot, 'lambda')
  return queue.sent.splice(0)[0] as ShardTask
}
