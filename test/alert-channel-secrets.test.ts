import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PagerDutyChannel } from '../src/adapters/alerts/pagerduty/index.js'
import { SlackChannel } from '../src/adapters/alerts/slack/index.js'
import { WebhookChannel } from '../src/adapters/alerts/webhook/index.js'
import type { AlertChannel, DeliveryContext } from '../src/ports.js'
import { incidentAlert } from './alert-fixtures.js'
import { type Harness, openHarness } from './helpers.js'
import { extra, steadyDaily } from './usage-fixtures.js'

// A channel URL is a secret (a Slack webhook URL in its path, a webhook's token in its query string, a password
// in its user info): what a failed delivery stores in last_error, which any read-scoped key can see, never
// quotes it, whatever the receiver or the HTTP stack says.

const DELIVERY: DeliveryContext = { deliveryId: 'secret-test', attempt: 1 }
const clock = { now: () => Date.UTC(2026, 10, 25, 12) }
const PATH_SECRET = 'B0SECRETPATH42xyz'
const TOKEN = 'tok3n-in-the-query-9f8e7d'
const PASSWORD = 'pa55word-in-userinfo'
const SECRETS = [PATH_SECRET, TOKEN, PASSWORD, encodeURIComponent(TOKEN)]

const channels: [string, (url: string) => AlertChannel][] = [
  ['slack', (url) => new SlackChannel(url, 2_000, clock)],
  ['pagerduty', (url) => new PagerDutyChannel(url, 'routing-key-0123456789', 2_000, clock)],
  ['webhook', (url) => new WebhookChannel(url, undefined, 2_000, clock)],
]

let server: Server
let base: string
let respond: (req: IncomingMessage, res: ServerResponse) => void
let received = 0
beforeAll(async () => {
  server = createServer((req, res) => {
    received++
    req.resume()
    req.on('end', () => respond(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
beforeEach(() => {
  received = 0
})

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

function expectNoSecret(error: string | undefined): void {
  expect(error).toBeDefined()
  for (const secret of SECRETS) expect(error).not.toContain(secret)
  expect(error).not.toMatch(/https?:\/\/127\.0\.0\.1/)
}

describe.each(channels)('%s errors never quote the channel URL', (name, make) => {
  const secretUrl = (origin: string) => `${origin}/services/T000/${PATH_SECRET}?token=${TOKEN}`

  it('a URL with a user name and password: rejected at once, without quoting it', async () => {
    const result = await make(`http://user:${PASSWORD}@127.0.0.1:1/hook?token=${TOKEN}`).send(
      incidentAlert(),
      DELIVERY,
    )
    expect(result).toEqual({
      status: 'rejected',
      error: `${name}: the configured URL contains a user name or password, which cannot be sent: remove them`,
    })
    expectNoSecret(result.status === 'delivered' ? undefined : result.error)
  })

  it('connection refused: names the address, not the URL', async () => {
    const port = await closedPort()
    const result = await make(secretUrl(`http://127.0.0.1:${port}`)).send(incidentAlert(), DELIVERY)
    expect(result).toEqual({ status: 'retry', error: `${name}: connection refused (127.0.0.1:${port})` })
  })

  it('a port fetch blocks (the reviewer used :1): rejected for good, saying so', async () => {
    const result = await make(`http://127.0.0.1:1/hook?token=${TOKEN}`).send(incidentAlert(), DELIVERY)
    expect(result).toEqual({
      status: 'rejected',
      error: `${name}: port 1 is blocked for HTTP by fetch: use another`,
    })
  })

  it('a receiver that echoes the URL in its error body: the echo is scrubbed', async () => {
    respond = (req, res) => res.writeHead(500).end(`no such hook: ${base}${req.url} (token ${TOKEN})`)
    const result = await make(secretUrl(base)).send(incidentAlert(), DELIVERY)
    expect(result.status).toBe('retry')
    const error = result.status === 'retry' ? result.error : undefined
    expect(error).toMatch(new RegExp(`^${name} answered 500: no such hook: `))
    expectNoSecret(error)
    expect(received).toBe(1)
    // Where the 200-character cut would split the secret, none of it is left either.
    respond = (_req, res) => res.writeHead(400).end(`${'x'.repeat(185)} ${TOKEN}`)
    const cut = await make(secretUrl(base)).send(incidentAlert(), DELIVERY)
    expect(cut.status === 'delivered' ? '' : cut.error).not.toContain(TOKEN.slice(0, 8))
  })

  it('a redirect: names the target origin only, never its path or query', async () => {
    respond = (req, res) =>
      res.writeHead(302, { location: `https://elsewhere.example${req.url}&next=1` }).end()
    const away = await make(secretUrl(base)).send(incidentAlert(), DELIVERY)
    expect(away).toEqual({
      status: 'rejected',
      error: `${name} answered 302 (redirect to https://elsewhere.example)`,
    })
    respond = (req, res) => res.writeHead(307, { location: `${req.url}&again=1` }).end()
    const here = await make(secretUrl(base)).send(incidentAlert(), DELIVERY)
    expect(here).toEqual({
      status: 'rejected',
      error: `${name} answered 307 (redirect within the same host)`,
    })
  })
})

describe('last_error through the outbox and the API', () => {
  const T0 = Date.UTC(2026, 10, 25, 13)
  let h: Harness
  let port: number

  beforeAll(async () => {
    port = await closedPort()
    h = await openHarness(T0, {
      alerts: { webhook: { url: `http://127.0.0.1:${port}/hooks/${PATH_SECRET}?token=${TOKEN}` } },
    })
  })
  afterAll(async () => {
    await h?.close()
  })

  it('GET /v1/alerts shows what failed, not the webhook URL', async () => {
    await h.meterflow.ingest(steadyDaily(['secret-co'], T0))
    await h.meterflow.ingest(extra(['secret-co'], T0 - 1_800_000, 5_000))
    expect((await h.meterflow.job.runNow(T0, 'api')).run.status).toBe('completed')
    expect(await h.meterflow.alerts.deliver()).toMatchObject({ retrying: 1 })
    const res = await h.app.inject({ method: 'GET', url: '/v1/alerts' })
    expect(res.statusCode).toBe(200)
    const errors = (res.json() as { items: { last_error: string | null }[] }).items.map((d) => d.last_error)
    expect(errors).toContain(`webhook: connection refused (127.0.0.1:${port})`)
    for (const secret of SECRETS) expect(res.body).not.toContain(secret)
  })
})
