/** What the Lambda runtime hands a function (events, the context object) and reads back (stdout), for the tests. */
import { createHash, randomUUID } from 'node:crypto'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { Context, ScheduledEvent, SQSRecord } from 'aws-lambda'
import { expect, vi } from 'vitest'
import { createDynamoDbClient } from '../src/adapters/dynamodb/client.js'

export type JsonLine = Record<string, unknown>

/** A ScheduledEvent as EventBridge sends it for a `rate(1 hour)` rule, a few seconds into the hour `slot`. */
export function scheduledEvent(slot: number, id: string = randomUUID()): ScheduledEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date(slot + 7_000).toISOString().replace('.000Z', 'Z'),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/meterflow-anomaly-detection'],
    detail: {},
  }
}

/** The Lambda runtime's context object: the time left counts down from `remainingMs`. */
export function lambdaContext(remainingMs = 300_000, functionName = 'meterflow-run'): Context {
  const end = Date.now() + remainingMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/25/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

/** An SQS record as the event source mapping delivers it. */
export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const messageId = randomUUID()
  const now = String(Date.now())
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'AROAEXAMPLE:meterflow-run',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:meterflow-shards',
    awsRegion: 'us-east-1',
  }
}

export interface Captured<T> {
  result: T | undefined
  error: unknown
  /** EMF lines (CloudWatch metrics). */
  emf: JsonLine[]
  /** Structured log lines (Powertools Logger: stdout, errors on stderr). */
  logs: JsonLine[]
}

/** Runs `call` (an invocation), capturing the JSON lines it writes to stdout and stderr. */
export async function captureOutput<T>(call: () => Promise<T>): Promise<Captured<T>> {
  const written: string[] = []
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  }
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ]
  let result: T | undefined
  let error: unknown
  try {
    result = await call()
  } catch (err) {
    error = err
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  const lines = written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonLine)
  return {
    result,
    error,
    emf: lines.filter((l) => '_aws' in l),
    logs: lines.filter((l) => !('_aws' in l)),
  }
}

/** The one EMF line carrying metric `name` (and the `where` dimensions): its value, unit and namespace. */
export function emfMetric(lines: JsonLine[], name: string, where: Record<string, string> = {}) {
  const matching = lines.filter((l) => name in l && Object.entries(where).every(([k, v]) => l[k] === v))
  expect(matching, `${name} ${JSON.stringify(where)}`).toHaveLength(1)
  const line = matching[0] as JsonLine & {
    _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[] }
  }
  const directive = line._aws.CloudWatchMetrics[0]
  return {
    value: line[name],
    unit: directive?.Metrics.find((m) => m.Name === name)?.Unit,
    namespace: directive?.Namespace,
  }
}

/** Every item of the table, read with the real SDK (a Scan, page after page). */
export async function tableItems(endpoint: string, table: string): Promise<JsonLine[]> {
  const client = createDynamoDbClient({ region: 'us-east-1', endpoint })
  try {
    const items: JsonLine[] = []
    let start: Record<string, never> | undefined
    do {
      const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }))
      for (const item of page.Items ?? []) items.push(unmarshall(item))
      start = page.LastEvaluatedKey as Record<string, never> | undefined
    } while (start)
    return items
  } finally {
    client.destroy()
  }
}
