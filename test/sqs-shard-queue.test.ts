import { randomUUID } from 'node:crypto'
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { createSqsClient } from '../src/adapters/sqs/client.js'
import { SqsShardQueue } from '../src/adapters/sqs/shard-queue.js'
import { parseShardTask } from '../src/adapters/sqs/shard-task.js'
import type { ShardTask } from '../src/domain/shard.js'

/**
 * The SQS adapter against a real queue: AWS SQS, or a server that speaks SQS's JSON protocol (sqslite speaks only
 * the old query protocol and answers @aws-sdk/client-sqs with 415). Use a standard queue nothing else consumes:
 *   METERFLOW_TEST_SQS_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/meterflow-test AWS_REGION=eu-west-1
 * METERFLOW_TEST_SQS_ENDPOINT overrides the endpoint, which is otherwise the URL's origin (none for AWS's own hosts).
 */
const queueUrl = process.env.METERFLOW_TEST_SQS_URL ?? ''
const SKIP_REASON = 'METERFLOW_TEST_SQS_URL is not set (no local SQS speaks the JSON protocol)'

if (queueUrl === '') console.warn(`test/sqs-shard-queue.test.ts: SKIPPED, ${SKIP_REASON}`)

function target(url: string): { region: string; endpoint?: string } {
  const host = new URL(url).hostname
  const region =
    process.env.AWS_REGION || /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1] || 'us-east-1'
  const endpoint =
    process.env.METERFLOW_TEST_SQS_ENDPOINT || (host.endsWith('.amazonaws.com') ? '' : new URL(url).origin)
  return endpoint === '' ? { region } : { region, endpoint }
}

describe.skipIf(queueUrl === '')(
  `SqsShardQueue contract (skipped unless ${SKIP_REASON.split(' ')[0]} is set)`,
  () => {
    it('sends 25 tasks that come back from the queue as the same tasks', async () => {
      const options = { ...target(queueUrl), env: process.env }
      const runId = `contract-${randomUUID()}`
      const slot = Math.floor(Date.now() / 3_600_000) * 3_600_000
      const sent: ShardTask[] = Array.from({ length: 25 }, (_, index) => ({
        runId,
        slot,
        trigger: 'lambda',
        startedAt: slot + 1_234,
        backfill: false,
        index,
        total: 25,
        range: {
          from: index === 0 ? '' : `c${String(index).padStart(3, '0')}`,
          to: index === 24 ? '' : `c${String(index + 1).padStart(3, '0')}`,
        },
      }))
      const queue = new SqsShardQueue({ ...options, queueUrl })
      const receiver = createSqsClient(options)
      try {
        await queue.send(sent)
        const received = new Map<string, ShardTask>()
        const deadline = Date.now() + 45_000
        while (
          new Set([...received.values()].map((t) => t.index)).size < sent.length &&
          Date.now() < deadline
        ) {
          const reply = await receiver.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 2,
              VisibilityTimeout: 60,
            }),
          )
          const ours = (reply.Messages ?? []).flatMap((m) => {
            // Messages of other runs (an earlier, interrupted test) are left alone.
            const task = m.Body?.includes(runId) ? parseShardTask(m.Body) : null
            return task && m.MessageId && m.ReceiptHandle
              ? [{ id: m.MessageId, task, handle: m.ReceiptHandle }]
              : []
          })
          for (const m of ours) received.set(m.id, m.task)
          if (ours.length > 0) {
            const deleted = await receiver.send(
              new DeleteMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: ours.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.handle })),
              }),
            )
            expect(deleted.Failed ?? []).toEqual([])
          }
        }
        const byIndex = [...received.values()].sort((a, b) => a.index - b.index)
        // SQS delivers at least once: a task may come back twice, but each as it was sent.
        expect([...new Map(byIndex.map((t) => [t.index, t])).values()]).toStrictEqual(sent)
        for (const task of byIndex) expect(task).toStrictEqual(sent[task.index])
      } finally {
        queue.close()
        receiver.destroy()
      }
    })
  },
)
