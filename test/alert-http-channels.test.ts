import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebhookVerificationError } from 'standardwebhooks'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { pagerDutyChannel } from '../src/adapters/alerts/pagerduty/index.js'
import type { ChannelContext, ChannelRegistration } from '../src/adapters/alerts/registry.js'
import { slackChannel } from '../src/adapters/alerts/slack/index.js'
import { webhookChannel, webhookMessageId } from '../src/adapters/alerts/webhook/index.js'
import { type ConfigInput, loadConfig } from '../src/config.js'
import type { Alert, DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../src/domain/alert.js'
import type { AlertChannel, DeliveryContext } from '../src/ports.js'
import { verifyStandardWebhook } from './receiver.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const NOW = SLOT + 65_000
const INCIDENT_ID = 'acme-corp|api_calls|2026-11-25T10:00:00.000Z'
const ROUTING_KEY = 'R0ZX8Y7W6V5U4T3S2R1Q0P9O8N7M6L5K'
// The Standard Webhooks serialisation of a 32-byte key.
const SECRET = `whsec_${Buffer.from('meterflow-http-channel-test-key!').toString('base64')}`
const DELIVERY: DeliveryContext = { deliveryId: 'test-delivery', attempt: 1 }

// --- alerts as the alert factory makes them ---

function incidentAlert(transition: IncidentAlert['transition'] = 'opened'): IncidentAlert {
  const resolved = transition === 'resolved'
  const title = {
    opened: 'Critical',
    escalated: 'Escalated to critical: critical',
    resolved: 'Resolved: critical',
  }
  return {
    kind: 'incident',
    id: `2026-11-25T12:00:00.000Z|${transition}|${INCIDENT_ID}`,
    severity: 'critical',
    createdAt: SLOT,
    title: `${title[transition]} anomaly: acme-corp - api_calls`,
    link: 'https://meterflow.example.com/incidents/acme-corp%7Capi_calls',
    transition,
    incident: {
      id: INCIDENT_ID,
      customerId: 'acme-corp',
      metric: 'api_calls',
      status: resolved ? 'resolved' : 'open',
      severity: 'critical',
      direction: 'spike',
      openedAt: SLOT - 7_200_000,
      resolvedAt: resolved ? SLOT : null,
      peakZScore: 9.81,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    },
    detection: {
      signal: 'volume',
      slot: SLOT,
      currentValue: resolved ? 10_250 : 48_210,
      baselineMean: 10_020.4,
      baselineStddev: 3_890.25,
      zScore: resolved ? 0.06 : 9.81,
      windowStart: SLOT - 86_400_000,
      windowEnd: SLOT,
    },
  }
}

const stormAlert = (): StormAlert => ({
  kind: 'storm',
  id: '2026-11-25T12:00:00.000Z|storm',
  severity: 'critical',
  createdAt: SLOT,
  title: 'Alert storm: 73 incidents opened in one run (limit 50), possible system issue',
  link: null,
  storm: {
    runId: 'run-7f3a',
    slot: SLOT,
    opened: 73,
    limit: 50,
    sample: [
      {
        incidentId: INCIDENT_ID,
        customerId: 'acme-corp',
        metric: 'api_calls',
        severity: 'critical',
        direction: 'spike',
      },
    ],
  },
})

const jobAlert = (): JobHealthAlert => ({
  kind: 'job_health',
  id: '2026-11-25T12:00:00.000Z|job_failed|run-7f3a',
  severity: 'critical',
  createdAt: SLOT + 4_200,
  title: 'Detection run failed for slot 2026-11-25T12:00:00.000Z',
  link: null,
  job: {
    problem: 'failed',
    runId: 'run-7f3a',
    slot: SLOT,
    durationMs: 4_200,
    limitMs: null,
    error: 'ECONNRESET',
  },
})

const digestAlert = (): DigestAlert => ({
  kind: 'digest',
  id: '2026-11-26T08:00:00.000Z|digest',
  severity: 'warning',
  createdAt: SLOT,
  title: 'MeterFlow daily digest: 0 opened, 0 resolved, 0 open',
  link: null,
  digest: { from: SLOT - 86_400_000, to: SLOT, opened: 0, resolved: 0, stillOpen: 0, incidents: [] },
})

// --- a real HTTP receiver standing in for the vendor ---

interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}
type Responder = (req: IncomingMessage, res: ServerResponse) => void

interface Receiver {
  url: string
  requests: Received[]
  respond: Responder
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    respond: (_req, res) => res.writeHead(200).end('ok'),
    close: async () => {},
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      receiver.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      receiver.respond(req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return receiver
}

const context = (timeoutMs = 2_000): ChannelContext => ({
  clock: { now: () => NOW },
  timeoutMs,
  write: () => {},
})

function build(
  registration: ChannelRegistration,
  alerts: ConfigInput['alerts'],
  timeoutMs?: number,
): AlertChannel {
  const channel = registration.create(loadConfig({}, { alerts }), context(timeoutMs))
  if (!channel) throw new Error('channel not configured')
  return channel
}

/** A port that was listening a moment ago and is not now: connection refused. */
async function closedPortUrl(): Promise<string> {
  const r = await startReceiver()
  await r.close()
  return r.url
}

let slack: Receiver
let pagerduty: Receiver
let hook: Receiver
beforeAll(async () => {
  ;[slack, pagerduty, hook] = await Promise.all([startReceiver(), startReceiver(), startReceiver()])
})
afterAll(async () => {
  await Promise.all([slack?.close(), pagerduty?.close(), hook?.close()])
})
beforeEach(() => {
  for (const r of [slack, pagerduty, hook]) {
    r.requests.length = 0
    r.respond = (_req, res) => res.writeHead(200).end('ok')
  }
})

const slackUrl = () => `${slack.url}/services/T000/B000/XXXXXXXX`
const last = (r: Receiver): Received => {
  const req = r.requests.at(-1)
  if (!req) throw new Error('nothing received')
  return req
}

describe('channels are on when configured', () => {
  it('creates nothing without a URL or routing key', () => {
    const config = loadConfig({}, {})
    for (const registration of [slackChannel, pagerDutyChannel, webhookChannel]) {
      expect(registration.create(config, context())).toBeNull()
    }
  })
})

describe('slack incoming webhook', () => {
  it('posts Block Kit JSON with a fallback text for every alert kind', async () => {
    const channel = build(slackChannel, { slack: { webhookUrl: slackUrl() } })
    const alerts: Alert[] = [
      incidentAlert('opened'),
      incidentAlert('resolved'),
      stormAlert(),
      jobAlert(),
      digestAlert(),
    ]
    for (const alert of alerts) expect(await channel.send(alert, DELIVERY)).toEqual({ status: 'delivered' })
    expect(slack.requests).toHaveLength(alerts.length)
    for (const req of slack.requests) {
      expect(req).toMatchObject({ method: 'POST', url: '/services/T000/B000/XXXXXXXX' })
      expect(req.headers['content-type']).toBe('application/json')
      const body = JSON.parse(req.body)
      expect(typeof body.text).toBe('string')
      expect(body.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } })
      for (const block of body.blocks) expect(['header', 'section', 'context']).toContain(block.type)
    }
    const opened = JSON.parse(slack.requests[0]?.body ?? '')
    expect(opened.text).toContain('Critical anomaly: acme-corp - api_calls')
    expect(JSON.stringify(opened.blocks)).toContain('48,210 vs a baseline mean of 10,020.4')
  })

  it("passes Slack's error code on in a rejection", async () => {
    slack.respond = (_req, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks')
    const channel = build(slackChannel, { slack: { webhookUrl: slackUrl() } })
    expect(await channel.send(incidentAlert(), DELIVERY)).toEqual({
      status: 'rejected',
      error: 'slack answered 400: invalid_blocks',
    })
  })
})

describe('pagerduty events API v2', () => {
  const channel = () =>
    build(pagerDutyChannel, { pagerduty: { routingKey: ROUTING_KEY, url: `${pagerduty.url}/v2/enqueue` } })
  const accepted: Responder = (_req, res) =>
    res
      .writeHead(202, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: INCIDENT_ID }))

  it('triggers, re-triggers on escalation and resolves one dedup key per incident', async () => {
    pagerduty.respond = accepted
    const pd = channel()
    for (const t of ['opened', 'escalated', 'resolved'] as const) {
      expect(await pd.send(incidentAlert(t), DELIVERY)).toEqual({ status: 'delivered' })
    }
    const [opened, escalated, resolved] = pagerduty.requests.map((r) => JSON.parse(r.body))
    expect(pagerduty.requests[0]).toMatchObject({ method: 'POST', url: '/v2/enqueue' })
    expect(opened).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: INCIDENT_ID,
      payload: {
        summary: expect.stringContaining('Critical anomaly: acme-corp - api_calls'),
        severity: 'critical',
        source: 'acme-corp',
        component: 'api_calls',
        group: 'usage',
        class: 'usage_spike',
        timestamp: '2026-11-25T12:00:00.000Z',
        custom_details: { current_value: 48_210, baseline_mean: 10_020.4, z_score: 9.81 },
      },
      links: [
        { href: 'https://meterflow.example.com/incidents/acme-corp%7Capi_calls', text: 'Open in MeterFlow' },
      ],
    })
    expect(opened.payload.summary.length).toBeLessThanOrEqual(1024)
    expect(escalated).toMatchObject({ event_action: 'trigger', dedup_key: INCIDENT_ID })
    expect(resolved).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: INCIDENT_ID })
  })

  it('triggers a storm keyed by its alert, job problems under one key per kind, and refuses a digest', async () => {
    pagerduty.respond = accepted
    const pd = channel()
    expect(await pd.send(stormAlert(), DELIVERY)).toEqual({ status: 'delivered' })
    expect(await pd.send(jobAlert(), DELIVERY)).toEqual({ status: 'delivered' })
    const [storm, job] = pagerduty.requests.map((r) => JSON.parse(r.body))
    expect(storm).toMatchObject({
      event_action: 'trigger',
      dedup_key: stormAlert().id,
      payload: { class: 'alert_storm' },
    })
    expect(job).toMatchObject({
      dedup_key: 'meterflow-job-failed',
      payload: { class: 'job_failed', severity: 'critical' },
    })
    expect(await pd.send(digestAlert(), DELIVERY)).toEqual({
      status: 'rejected',
      error: 'pagerduty does not take digests',
    })
    expect(pagerduty.requests).toHaveLength(2)
  })

  it("rejects PagerDuty's 400 invalid event with its explanation", async () => {
    pagerduty.respond = (_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"],
        }),
      )
    const result = await channel().send(incidentAlert(), DELIVERY)
    expect(result.status).toBe('rejected')
    expect(result).toMatchObject({ error: expect.stringMatching(/^pagerduty answered 400: .*routing_key/) })
  })
})

describe('signed webhook (Standard Webhooks)', () => {
  const channel = (secret: string | null = SECRET, clock = { now: () => NOW }) => {
    const config = loadConfig(
      {},
      { alerts: { webhook: { url: `${hook.url}/hooks/meterflow`, secret: secret ?? undefined } } },
    )
    const created = webhookChannel.create(config, { ...context(), clock })
    if (!created) throw new Error('channel not configured')
    return created
  }
  const receive = (req: Received, over: { secret?: string; body?: string; atMs?: number } = {}) =>
    verifyStandardWebhook(over.secret ?? SECRET, { ...req, body: over.body ?? req.body }, over.atMs ?? NOW)

  it('posts the JSON contract with webhook-id, webhook-timestamp and a signature the library verifies', async () => {
    expect(await channel().send(incidentAlert('escalated'), DELIVERY)).toEqual({ status: 'delivered' })
    const req = last(hook)
    expect(req.headers['webhook-id']).toBe(webhookMessageId(DELIVERY.deliveryId))
    expect(req.headers['webhook-timestamp']).toBe(String(Math.floor(NOW / 1000)))
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(req.headers).not.toHaveProperty('x-meterflow-signature')
    const expected = {
      id: incidentAlert('escalated').id,
      type: 'incident',
      transition: 'escalated',
      created_at: '2026-11-25T12:00:00.000Z',
      severity: 'critical',
      data: {
        incident: { customer_id: 'acme-corp', peak_z_score: 9.81 },
        detection: { current_value: 48_210 },
      },
    }
    expect(JSON.parse(req.body)).toMatchObject(expected)
    expect(receive(req)).toMatchObject(expected)
  })

  it('fails verification with a wrong secret, a tampered body or a stale timestamp', async () => {
    await channel().send(jobAlert(), DELIVERY)
    const req = last(hook)
    expect(receive(req)).toMatchObject({ type: 'job_health' })
    const other = `whsec_${Buffer.from('not-the-secret-meterflow-signs!!').toString('base64')}`
    expect(() => receive(req, { secret: other })).toThrow(WebhookVerificationError)
    expect(() => receive(req, { body: req.body.replace('ECONNRESET', 'all good') })).toThrow(
      /No matching signature/,
    )
    // The same captured request replayed six minutes later.
    expect(() => receive(req, { atMs: NOW + 360_000 })).toThrow(/timestamp too old/)
  })

  it('keeps webhook-id across retries of a delivery and signs each attempt with its own time', async () => {
    let now = NOW
    const hookChannel = channel(SECRET, { now: () => now })
    await hookChannel.send(incidentAlert(), DELIVERY)
    now += 3_600_000
    await hookChannel.send(incidentAlert(), { ...DELIVERY, attempt: 2 })
    await hookChannel.send(incidentAlert('resolved'), { deliveryId: 'resolved-delivery', attempt: 1 })
    const [first, retry, resolved] = hook.requests
    if (!first || !retry || !resolved) throw new Error('expected three requests')
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id'])
    expect(resolved.headers['webhook-id']).not.toBe(first.headers['webhook-id'])
    expect(Number(retry.headers['webhook-timestamp'])).toBe(Number(first.headers['webhook-timestamp']) + 3600)
    // An hour late, the retry still passes the receiver's 5-minute window: it was signed when sent.
    expect(receive(retry, { atMs: now })).toMatchObject({ transition: 'opened' })
    expect(() => receive(first, { atMs: now })).toThrow(/timestamp too old/)
  })

  it('signs with a plain secret as the whsec_ form of its bytes, and sends no signature without a secret', async () => {
    const plain = 'a-plain-webhook-secret-0123456789'
    await channel(plain).send(stormAlert(), DELIVERY)
    const signed = last(hook)
    expect(receive(signed, { secret: `whsec_${Buffer.from(plain).toString('base64')}` })).toMatchObject({
      type: 'storm',
    })

    await channel(null).send(stormAlert(), DELIVERY)
    expect(last(hook).headers).not.toHaveProperty('webhook-signature')
    expect(last(hook).headers['webhook-id']).toBe(webhookMessageId(DELIVERY.deliveryId))
    expect(() => receive(last(hook))).toThrow(/Missing required headers/)
  })
})

// The same answers mean the same thing for every HTTP channel.
const channels: [string, () => Receiver, (url: string, timeoutMs?: number) => AlertChannel][] = [
  ['slack', () => slack, (url, t) => build(slackChannel, { slack: { webhookUrl: url } }, t)],
  [
    'pagerduty',
    () => pagerduty,
    (url, t) => build(pagerDutyChannel, { pagerduty: { routingKey: ROUTING_KEY, url } }, t),
  ],
  ['webhook', () => hook, (url, t) => build(webhookChannel, { webhook: { url, secret: SECRET } }, t)],
]

describe.each(channels)('%s delivery failures', (name, receiver, make) => {
  it('retries a 5xx and says what the receiver said', async () => {
    receiver().respond = (_req, res) => res.writeHead(503).end('upstream unavailable')
    expect(await make(receiver().url).send(incidentAlert(), DELIVERY)).toEqual({
      status: 'retry',
      error: `${name} answered 503: upstream unavailable`,
    })
    receiver().respond = (_req, res) => res.writeHead(500).end()
    expect(await make(receiver().url).send(incidentAlert(), DELIVERY)).toEqual({
      status: 'retry',
      error: `${name} answered 500`,
    })
  })

  it('retries a 429 after the Retry-After seconds', async () => {
    receiver().respond = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('rate_limited')
    expect(await make(receiver().url).send(incidentAlert(), DELIVERY)).toEqual({
      status: 'retry',
      error: `${name} answered 429: rate_limited`,
      retryAfterMs: 7_000,
    })
  })

  it('rejects other 4xx for good', async () => {
    receiver().respond = (_req, res) => res.writeHead(404).end('no_service')
    expect(await make(receiver().url).send(incidentAlert(), DELIVERY)).toEqual({
      status: 'rejected',
      error: `${name} answered 404: no_service`,
    })
  })

  it('rejects a redirect instead of following it as a bodiless GET', async () => {
    receiver().respond = (_req, res) => res.writeHead(301, { location: 'https://elsewhere.example/' }).end()
    const result = await make(receiver().url).send(incidentAlert(), DELIVERY)
    expect(result).toEqual({
      status: 'rejected',
      error: `${name} answered 301 (redirect to https://elsewhere.example)`,
    })
    expect(receiver().requests).toHaveLength(1)
  })

  it('retries when the receiver does not answer within the timeout', async () => {
    receiver().respond = () => {}
    const started = Date.now()
    const result = await make(receiver().url, 200).send(incidentAlert(), DELIVERY)
    expect(result).toEqual({ status: 'retry', error: `${name}: no answer within 200 ms` })
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('retries when nothing listens on the port', async () => {
    const url = await closedPortUrl()
    const result = await make(url).send(incidentAlert(), DELIVERY)
    expect(result).toEqual({ status: 'retry', error: `${name}: connection refused (${new URL(url).host})` })
  })
})
