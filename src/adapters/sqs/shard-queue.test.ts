import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ShardTask } from '../../domain/shard.js'
import { ValidationError } from '../../errors.js'
import { ShardQueueError, SqsShardQueue, type SqsShardQueueOptions } from './shard-queue.js'
import { parseShardTask } from './shard-task.js'

interface SentEntry {
  Id: string
  MessageBody: string
}

interface Call {
  target: string | undefined
  contentType: string | undefined
  authorization: string | undefined
  queueUrl: string
  entries: SentEntry[]
  at: number
}

/** What the server does with one entry: accept it, report it in `Failed`, or leave it out of the reply. */
type EntryVerdict = 'ok' | 'omit' | { code: string; senderFault: boolean }
/** What the server does with one call (0-based count of calls so far): answer per entry, or fail it whole. */
type CallVerdict = 'entries' | { status: number; type: string } | 'hang' | 'bad-md5'

/** A local HTTP server speaking SQS's JSON protocol for SendMessageBatch, recording every call. */
class LocalSqs {
  readonly calls: Call[] = []
  readonly accepted: SentEntry[] = []
  inFlight = 0
  maxInFlight = 0
  holdMs = 0
  onCall: (callNumber: number) => CallVerdict = () => 'entries'
  onEntry: (task: ShardTask, attemptOfTask: number) => EntryVerdict = () => 'ok'
  private readonly attemptsByBody = new Map<string, number>()
  private readonly server: Server = createServer((req, res) => void this.handle(req, res))

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      QueueUrl: string
      Entries: SentEntry[]
    }
    const callNumber = this.calls.length
    this.calls.push({
      target: req.headers['x-amz-target'] as string | undefined,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      queueUrl: input.QueueUrl,
      entries: input.Entries,
      at: performance.now(),
    })
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    if (this.holdMs > 0) await new Promise((resolve) => setTimeout(resolve, this.holdMs))
    this.inFlight--
    const verdict = this.onCall(callNumber)
    if (verdict === 'hang') return
    if (verdict !== 'entries' && verdict !== 'bad-md5') {
      return reply(res, verdict.status, { __type: `com.amazonaws.sqs#${verdict.type}`, message: 'injected' })
    }
    const Successful: unknown[] = []
    const Failed: unknown[] = []
    for (const entry of input.Entries) {
      const attempt = (this.attemptsByBody.get(entry.MessageBody) ?? 0) + 1
      this.attemptsByBody.set(entry.MessageBody, attempt)
      const entryVerdict = this.onEntry(parseShardTask(entry.MessageBody), attempt)
      if (entryVerdict === 'ok') {
        this.accepted.push(entry)
        const md5 = createHash('md5')
          .update(verdict === 'bad-md5' ? `${entry.MessageBody}!` : entry.MessageBody)
          .digest('hex')
        Successful.push({ Id: entry.Id, MessageId: randomUUID(), MD5OfMessageBody: md5 })
      } else if (entryVerdict !== 'omit') {
        Failed.push({
          Id: entry.Id,
          SenderFault: entryVerdict.senderFault,
          Code: entryVerdict.code,
          Message: 'injected',
        })
      }
    }
    reply(res, 200, { Successful, Failed })
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() })
  res.end(JSON.stringify(body))
}

const SLOT = Date.UTC(2026, 10, 25, 10)

function tasks(count: number, runId = 'run-1'): ShardTask[] {
  const bounds = Array.from({ length: count }, (_, i) =>
    i === 0 ? '' : `cust-${String(i).padStart(5, '0')}`,
  )
  return bounds.map((from, index) => ({
    runId,
    slot: SLOT,
    trigger: 'lambda',
    startedAt: SLOT + 61_234,
    backfill: false,
    index,
    total: count,
    range: { from, to: bounds[index + 1] ?? '' },
  }))
}

const accepted = (sqs: LocalSqs) => sqs.accepted.map((e) => parseShardTask(e.MessageBody))
const shardsIn = (call: Call | undefined) =>
  (call?.entries ?? []).map((e) => parseShardTask(e.MessageBody).index)

describe('SqsShardQueue against a local SQS JSON endpoint', () => {
  let sqs: LocalSqs
  let endpoint: string
  let queue: SqsShardQueue | undefined
  const open = (options: Partial<SqsShardQueueOptions> = {}) => {
    queue = new SqsShardQueue({
      queueUrl: `${endpoint}/000000000000/meterflow-shards`,
      region: 'us-east-1',
      endpoint,
      maxAttempts: 3,
      retryDelayMs: 10,
      ...options,
    })
    return queue
  }

  beforeEach(async () => {
    sqs = new LocalSqs()
    endpoint = await sqs.start()
  })

  afterEach(async () => {
    queue?.close()
    queue = undefined
    await sqs.stop()
  })

  it('sends every task once, 10 per SendMessageBatch call, as compact JSON that parses back to the task', async () => {
    const sent = tasks(25)
    await open().send(sent)
    expect(sqs.calls.map((c) => c.entries.length).sort()).toEqual([10, 10, 5])
    for (const call of sqs.calls) {
      expect(call.target).toBe('AmazonSQS.SendMessageBatch')
      expect(call.contentType).toBe('application/x-amz-json-1.0')
      expect(call.queueUrl).toBe(`${endpoint}/000000000000/meterflow-shards`)
      // No AWS credentials in the environment and a local endpoint: the dummy ones sign.
      expect(call.authorization).toContain('Credential=meterflow-local/')
      const ids = call.entries.map((e) => e.Id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const e of call.entries) expect(e.MessageBody).toBe(JSON.stringify(parseShardTask(e.MessageBody)))
    }
    expect(accepted(sqs).sort((a, b) => a.index - b.index)).toStrictEqual(sent)
  })

  it('sends nothing for no tasks, and nothing at all when one task is invalid', async () => {
    await open().send([])
    const bad = tasks(12)
    bad[11] = { ...(bad[11] as ShardTask), index: 12 }
    const error = await open()
      .send(bad)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).details).toStrictEqual([
      { field: 'index', reason: 'must be less than total' },
    ])
    expect(sqs.calls).toHaveLength(0)
  })

  it('keeps a bounded number of calls in flight', async () => {
    sqs.holdMs = 30
    await open({ concurrency: 3 }).send(tasks(100))
    expect(sqs.calls).toHaveLength(10)
    expect(sqs.maxInFlight).toBe(3)
  })

  it('re-sends entries SQS reports as failed, after a backoff, until they are accepted', async () => {
    const flaky = new Set([3, 7, 21])
    sqs.onEntry = (task, attempt) =>
      flaky.has(task.index) && attempt <= 2 ? { code: 'InternalError', senderFault: false } : 'ok'
    const sent = tasks(25)
    await open({ retryDelayMs: 40 }).send(sent)
    expect(sqs.calls).toHaveLength(5)
    expect(shardsIn(sqs.calls[3]).sort()).toEqual([21, 3, 7])
    expect(shardsIn(sqs.calls[4]).sort()).toEqual([21, 3, 7])
    // The first re-send waits 20-40 ms after the round, the second 40-80 ms.
    const lastOfFirstRound = Math.max(...sqs.calls.slice(0, 3).map((c) => c.at))
    expect((sqs.calls[3] as Call).at - lastOfFirstRound).toBeGreaterThanOrEqual(19)
    expect((sqs.calls[4] as Call).at - (sqs.calls[3] as Call).at).toBeGreaterThanOrEqual(39)
    expect(accepted(sqs).sort((a, b) => a.index - b.index)).toStrictEqual(sent)
  })

  it('re-sends entries missing from the reply', async () => {
    sqs.onEntry = (task, attempt) => (task.index === 4 && attempt === 1 ? 'omit' : 'ok')
    await open().send(tasks(5))
    expect(sqs.calls.map(shardsIn)).toStrictEqual([[0, 1, 2, 3, 4], [4]])
    expect(accepted(sqs).map((t) => t.index)).toEqual([0, 1, 2, 3, 4])
  })

  it('never re-sends an entry that failed by the sender’s fault, and names it in the error', async () => {
    sqs.onEntry = (task, attempt) => {
      if (task.index === 4) return { code: 'InvalidMessageContents', senderFault: true }
      if (task.index === 5 && attempt === 1) return { code: 'ServiceUnavailable', senderFault: false }
      return 'ok'
    }
    const error = (await open()
      .send(tasks(12))
      .catch((e: unknown) => e)) as ShardQueueError
    expect(error).toBeInstanceOf(ShardQueueError)
    expect(error.unsent).toStrictEqual([
      {
        runId: 'run-1',
        index: 4,
        code: 'InvalidMessageContents',
        reason: 'injected',
        senderFault: true,
        attempts: 1,
      },
    ])
    expect(error.details).toStrictEqual([
      { index: 4, field: 'shard', reason: 'InvalidMessageContents: injected' },
    ])
    expect(error.message).toContain('shard 4 of run run-1')
    expect(sqs.calls.flatMap(shardsIn).filter((i) => i === 4)).toHaveLength(1)
    expect(
      accepted(sqs)
        .map((t) => t.index)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11])
  })

  it('gives up on an entry that keeps failing after a bounded number of re-sends', async () => {
    sqs.onEntry = (task) => (task.index === 6 ? { code: 'InternalError', senderFault: false } : 'ok')
    const error = (await open({ entryRetries: 3 })
      .send(tasks(8))
      .catch((e: unknown) => e)) as ShardQueueError
    expect(error).toBeInstanceOf(ShardQueueError)
    expect(error.code).toBe('shard_queue_unavailable')
    expect(error.unsent).toStrictEqual([
      {
        runId: 'run-1',
        index: 6,
        code: 'InternalError',
        reason: 'injected',
        senderFault: false,
        attempts: 4,
      },
    ])
    expect(error.message).toMatch(/^1 of 8 shard tasks were not sent .*shard 6 of run run-1 \(InternalError/)
    expect(sqs.calls).toHaveLength(4)
    expect(accepted(sqs)).toHaveLength(7)
  })

  it('lets the SDK retry a 500 and reports the call when every attempt fails', async () => {
    sqs.onCall = (n) => (n < 2 ? { status: 500, type: 'InternalError' } : 'entries')
    await open({ maxAttempts: 3 }).send(tasks(3))
    expect(sqs.calls).toHaveLength(3)
    expect(accepted(sqs)).toHaveLength(3)

    sqs.calls.length = 0
    sqs.accepted.length = 0
    sqs.onCall = (n) => (n < 3 ? { status: 500, type: 'InternalError' } : 'entries')
    const error = (await open({ maxAttempts: 3, concurrency: 1 })
      .send(tasks(25))
      .catch((e: unknown) => e)) as ShardQueueError
    expect(error).toBeInstanceOf(ShardQueueError)
    // The first call failed three times; the calls not yet made are not made.
    expect(sqs.calls).toHaveLength(3)
    expect(error.unsent.map((u) => [u.index, u.code])).toStrictEqual([
      ...Array.from({ length: 10 }, (_, i) => [i, 'InternalError']),
      ...Array.from({ length: 15 }, (_, i) => [i + 10, 'NotSent']),
    ])
    expect(error.cause).toMatchObject({
      name: 'InternalError',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    })
    expect(accepted(sqs)).toHaveLength(0)
  })

  it('reports a reply whose MD5 does not match what was sent', async () => {
    sqs.onCall = () => 'bad-md5'
    const error = (await open()
      .send(tasks(2))
      .catch((e: unknown) => e)) as ShardQueueError
    expect(error).toBeInstanceOf(ShardQueueError)
    expect(error.unsent.map((u) => u.reason)).toEqual([
      expect.stringContaining('Invalid MD5 checksum'),
      expect.stringContaining('Invalid MD5 checksum'),
    ])
  })

  it('times out an attempt that gets no answer and reports it', async () => {
    sqs.onCall = () => 'hang'
    const started = performance.now()
    const error = (await open({ maxAttempts: 2, requestTimeoutMs: 200 })
      .send(tasks(1))
      .catch((e: unknown) => e)) as ShardQueueError
    expect(error).toBeInstanceOf(ShardQueueError)
    expect(error.unsent[0]?.code).toBe('TimeoutError')
    expect(sqs.calls).toHaveLength(2)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('sends 1000 tasks (a run at the shard limit) in 100 calls', async () => {
    const q = open()
    const timings: string[] = []
    for (const run of ['run-cold', 'run-warm']) {
      const started = performance.now()
      await q.send(tasks(1000, run))
      timings.push(`${run.slice(4)} client ${(performance.now() - started).toFixed(0)} ms`)
    }
    console.log(`SqsShardQueue, 1000 tasks to the local server (concurrency 4): ${timings.join(', ')}`)
    expect(sqs.calls).toHaveLength(200)
    expect(
      accepted(sqs)
        .filter((t) => t.runId === 'run-warm')
        .sort((a, b) => a.index - b.index),
    ).toStrictEqual(tasks(1000, 'run-warm'))
  })

  it('refuses a FIFO queue and out-of-range options', () => {
    expect(() => open({ queueUrl: `${endpoint}/000000000000/shards.fifo` })).toThrow(/FIFO/)
    expect(() => open({ queueUrl: 'not a url' })).toThrow(/not a URL/)
    expect(() => open({ concurrency: 0 })).toThrow(/concurrency must be an integer in 1..64/)
    expect(() => open({ entryRetries: Number.NaN })).toThrow(/entryRetries/)
  })
})
