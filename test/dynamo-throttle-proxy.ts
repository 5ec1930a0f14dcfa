import { randomUUID } from 'node:crypto'
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A DynamoDB endpoint that misbehaves the way a throttled table does, in front of a real one (dynalite):
 * - `throttleNext(n)` / `throttleFor(ms)`: answer `ProvisionedThroughputExceededException` (HTTP 400, DynamoDB's
 *   JSON error body) instead of forwarding;
 * - `partialBatches(calls, keep)`: forward only the first `keep` requests (keys) of a BatchWriteItem
 *   (BatchGetItem) and return the others as UnprocessedItems (UnprocessedKeys), as DynamoDB does when some
 *   partitions of a batch are throttled. The unprocessed part is really not written.
 * Everything else is forwarded byte for byte. `log` records what happened to each request.
 */
export class DynamoThrottleProxy {
  readonly log: ProxyLogEntry[] = []
  private server: Server | null = null
  private readonly agent = new Agent({ keepAlive: true })
  private throttleCount = 0
  private throttleUntil = 0
  private throttleOnly: ReadonlySet<string> | null = null
  private partialCalls = 0
  private partialKeep = 1
  url = ''

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.handle(req, Buffer.concat(chunks), res).catch((err: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end(`proxy error: ${(err as Error).message}`)
        })
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    this.server = server
    return this
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    this.agent.destroy()
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Throttles the next `n` requests (of the named operations only, if given), then forwards again. */
  throttleNext(n: number, operations?: readonly string[]): void {
    this.throttleCount = n
    this.throttleOnly = operations ? new Set(operations) : null
  }

  /** Throttles every request (of the named operations only, if given) for the next `ms`. */
  throttleFor(ms: number, operations?: readonly string[]): void {
    this.throttleUntil = Date.now() + ms
    this.throttleOnly = operations ? new Set(operations) : null
  }

  /** The next `calls` BatchWriteItem/BatchGetItem calls process at most `keep` (>= 1) of their items each. */
  partialBatches(calls: number, keep: number): void {
    this.partialCalls = calls
    this.partialKeep = Math.max(1, keep)
  }

  /** Forwards everything from now on. */
  reset(): void {
    this.throttleCount = 0
    this.throttleUntil = 0
    this.partialCalls = 0
  }

  count(outcome: ProxyLogEntry['outcome'], operation?: string): number {
    return this.log.filter((e) => e.outcome === outcome && (!operation || e.operation === operation)).length
  }

  private async handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    // X-Amz-Target: DynamoDB_20120810.BatchWriteItem
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
    if (this.shouldThrottle(operation)) {
      this.log.push({ operation, outcome: 'throttled', unprocessed: 0 })
      const payload = JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message:
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      })
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(payload),
        'x-amzn-requestid': randomUUID(),
      })
      res.end(payload)
      return
    }
    const split = this.partialCalls > 0 ? splitBatch(operation, body, this.partialKeep) : null
    if (split) this.partialCalls--
    const upstream = await this.forward(req, split ? Buffer.from(JSON.stringify(split.forward)) : body)
    if (!split || upstream.status !== 200) {
      this.log.push({ operation, outcome: 'forwarded', unprocessed: 0 })
      res.writeHead(upstream.status, {
        ...withoutLength(upstream.headers),
        'content-length': upstream.body.length,
      })
      res.end(upstream.body)
      return
    }
    const answer = JSON.parse(upstream.body.toString('utf8')) as Record<string, Record<string, unknown>>
    const field = operation === 'BatchWriteItem' ? 'UnprocessedItems' : 'UnprocessedKeys'
    answer[field] = { ...answer[field], ...split.unprocessed }
    this.log.push({ operation, outcome: 'partial', unprocessed: split.count })
    const payload = JSON.stringify(answer)
    // The body changed: its checksum header would no longer match.
    const { 'x-amz-crc32': _crc, ...headers } = withoutLength(upstream.headers)
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(payload) })
    res.end(payload)
  }

  private shouldThrottle(operation: string): boolean {
    if (this.throttleOnly && !this.throttleOnly.has(operation)) return false
    if (Date.now() < this.throttleUntil) return true
    if (this.throttleCount > 0) {
      this.throttleCount--
      return true
    }
    return false
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const target = new URL(this.target)
    const { host: _host, 'content-length': _length, connection: _connection, ...headers } = req.headers
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          agent: this.agent,
          headers: { ...headers, host: target.host, 'content-length': body.length },
        },
        (upstream) => {
          const chunks: Buffer[] = []
          upstream.on('data', (c: Buffer) => chunks.push(c))
          upstream.on('end', () =>
            resolve({
              status: upstream.statusCode ?? 502,
              headers: upstream.headers,
              body: Buffer.concat(chunks),
            }),
          )
          upstream.on('error', reject)
        },
      )
      out.on('error', reject)
      out.end(body)
    })
  }
}

export interface ProxyLogEntry {
  operation: string
  outcome: 'forwarded' | 'throttled' | 'partial'
  /** Items (keys) this call returned as unprocessed. */
  unprocessed: number
}

type BatchWriteBody = { RequestItems: Record<string, unknown[]> }
type BatchGetBody = { RequestItems: Record<string, { Keys: unknown[] } & Record<string, unknown>> }

/** The part of a batch call to forward and the part to hand back as unprocessed; null when nothing is held back. */
function splitBatch(
  operation: string,
  body: Buffer,
  keep: number,
): { forward: object; unprocessed: Record<string, unknown>; count: number } | null {
  if (operation === 'BatchWriteItem') {
    const parsed = JSON.parse(body.toString('utf8')) as BatchWriteBody
    const forward: Record<string, unknown[]> = {}
    const unprocessed: Record<string, unknown[]> = {}
    let count = 0
    for (const [table, requests] of Object.entries(parsed.RequestItems)) {
      forward[table] = requests.slice(0, keep)
      if (requests.length > keep) {
        unprocessed[table] = requests.slice(keep)
        count += requests.length - keep
      }
    }
    return count === 0 ? null : { forward: { ...parsed, RequestItems: forward }, unprocessed, count }
  }
  if (operation === 'BatchGetItem') {
    const parsed = JSON.parse(body.toString('utf8')) as BatchGetBody
    const forward: BatchGetBody['RequestItems'] = {}
    const unprocessed: BatchGetBody['RequestItems'] = {}
    let count = 0
    for (const [table, spec] of Object.entries(parsed.RequestItems)) {
      forward[table] = { ...spec, Keys: spec.Keys.slice(0, keep) }
      if (spec.Keys.length > keep) {
        unprocessed[table] = { ...spec, Keys: spec.Keys.slice(keep) }
        count += spec.Keys.length - keep
      }
    }
    return count === 0 ? null : { forward: { ...parsed, RequestItems: forward }, unprocessed, count }
  }
  return null
}

function withoutLength(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue
    if (name === 'connection' || name === 'keep-alive') continue
    out[name] = value
  }
  return out
}
