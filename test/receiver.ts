import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { vi } from 'vitest'

export interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
  json: unknown
}

/** How the receiver answers the next request: a status (with headers), or 'hang' (never answers). */
export type Behaviour = { status: number; headers?: Record<string, string>; body?: string } | 'hang'

/**
 * A real HTTP server standing in for Slack / PagerDuty / a webhook endpoint: records every request, answers as
 * told (default 200), and can be stopped and started again on the same port to play "down for a while".
 */
export class Receiver {
  readonly received: Received[] = []
  behaviour: Behaviour | ((r: Received) => Behaviour) = { status: 200, body: 'ok' }
  private server: Server | null = null
  private hanging: ServerResponse[] = []
  port = 0

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let json: unknown = null
        try {
          json = JSON.parse(body)
        } catch {}
        const r: Received = { path: req.url ?? '', headers: req.headers, body, json }
        this.received.push(r)
        const b = typeof this.behaviour === 'function' ? this.behaviour(r) : this.behaviour
        if (b === 'hang') {
          this.hanging.push(res)
          return
        }
        res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers })
        res.end(b.body ?? '')
      })
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
    return this
  }

  /** Closes the port (connections are refused until start() again). */
  async stop(): Promise<void> {
    for (const res of this.hanging.splice(0)) res.destroy()
    const server = this.server
    this.server = null
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/**
 * What a webhook receiver in Node does with a request: the standardwebhooks library's verify over the raw body
 * and the request's headers, with the receiver's clock at `atMs` (the library reads Date.now()). Returns the
 * parsed body; throws the library's WebhookVerificationError for a forged, altered or stale request.
 */
export function verifyStandardWebhook(
  secret: string,
  request: { headers: IncomingHttpHeaders; body: string },
  atMs: number,
): unknown {
  vi.useFakeTimers({ toFake: ['Date'], now: atMs })
  try {
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>)
  } finally {
    vi.useRealTimers()
  }
}
