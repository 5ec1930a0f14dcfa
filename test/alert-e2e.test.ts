import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createSnsClient } from '../src/adapters/alerts/sns/index.js'
import { generateDemo, SHOWCASE } from '../src/demo/generator.js'
import { loadDemo, toApiEvent } from '../src/demo/load.js'
import { type Harness, openHarness } from './helpers.js'
import { type ReceivedMail, startSmtp } from './local-smtp.js'
import { close, SNS_REGION, startSnsServer, startSubscriber, urlOf } from './local-sns.js'
import { type Received, Receiver, verifyStandardWebhook } from './receiver.js'

// The end-to-end: demo data -> job run -> incidents opened -> SNS, Slack, PagerDuty, email and webhook
// receivers (all real local servers) each get one well-formed alert per incident -> the next hourly run, still
// anomalous, sends nothing -> recovery: the resolve goes to PagerDuty and Slack.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Date.UTC(2026, 10, 25, 12)
const SECRET = 'e2e-webhook-secret-0123456789'
const slack = new Receiver()
const pagerduty = new Receiver()
const webhook = new Receiver()
let sns: Awaited<ReturnType<typeof startSnsServer>>
let subscriber: Awaited<ReturnType<typeof startSubscriber>>
let smtp: Awaited<ReturnType<typeof startSmtp>>
let h: Harness

// biome-ignore lint/suspicious/noExplicitAny: vendor payloads under test are walked field by field
type Json = Record<string, any>

beforeAll(async () => {
  await Promise.all([slack.start(), pagerduty.start(), webhook.start()])
  sns = await startSnsServer()
  subscriber = await startSubscriber()
  smtp = await startSmtp()
  const admin = createSnsClient({ region: SNS_REGION, endpoint: urlOf(sns), env: {} })
  const topicArn = (await admin.send(new CreateTopicCommand({ Name: 'meterflow-alerts' }))).TopicArn ?? ''
  await admin.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: urlOf(subscriber.server) }),
  )
  admin.destroy()

  h = await openHarness(END, {
    alerts: {
      publicUrl: 'https://meterflow.example.com/',
      slack: { webhookUrl: slack.url },
      pagerduty: { routingKey: 'e2e-routing-key', url: pagerduty.url },
      webhook: { url: webhook.url, secret: SECRET },
      email: { smtpUrl: smtp.url, to: ['ops@example.com'], from: 'meterflow@example.com' },
      sns: { topicArn, endpoint: urlOf(sns), region: SNS_REGION },
    },
  })
  const demo = generateDemo({ customers: 4, days: 35, seed: 42, endMs: END })
  await loadDemo(demo, (batch) => h.meterflow.ingest(batch))
  // The new customer has three days of history: too little to continue below by copying last week.
  const off = await h.app.inject({
    method: 'PUT',
    url: `/v1/customers/${SHOWCASE.newCustomer}`,
    payload: { status: 'disabled' },
  })
  expect(off.statusCode).toBe(200)
}, 120_000)

afterAll(async () => {
  await h?.close()
  await Promise.all([slack.stop(), pagerduty.stop(), webhook.stop()])
  if (sns) await close(sns)
  if (subscriber) await close(subscriber.server)
  await new Promise<void>((resolve) => (smtp ? smtp.server.close(() => resolve()) : resolve()))
})

async function runAndDeliver(slot: number) {
  h.clock.ms = Math.max(h.clock.ms, slot)
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: { slot: new Date(slot).toISOString() },
  })
  expect(res.statusCode, res.body).toBe(200)
  await h.meterflow.alerts.deliver()
  return res.json()
}

const bodies = (r: Receiver) => r.received.map((x) => x.json as Json)
const snsMessages = () =>
  subscriber.notifications.map((n) => ({ ...n, message: JSON.parse(String(n.Message)) as Json }))
const mentions = (customer: string) => (x: Received) => x.body.includes(customer)

describe('alerting end to end', () => {
  let acmeIncident = ''
  let globexIncident = ''

  it('a run over demo data opens the showcase incidents and every channel gets one well-formed alert each', async () => {
    const run = await runAndDeliver(END)
    expect(run.incidents_opened).toBe(2)
    const open = (await h.app.inject({ method: 'GET', url: '/v1/incidents?status=open' })).json()
      .items as Json[]
    acmeIncident = open.find((i) => i.customer_id === SHOWCASE.spike)?.id
    globexIncident = open.find((i) => i.customer_id === SHOWCASE.drop)?.id
    expect(acmeIncident).toBeTruthy()
    expect(globexIncident).toBeTruthy()

    // Slack: Block Kit plus a fallback text, one message per incident.
    expect(slack.received).toHaveLength(2)
    const slackAcme = bodies(slack).find((b) => JSON.stringify(b).includes(SHOWCASE.spike)) as Json
    expect(typeof slackAcme.text).toBe('string')
    expect(Array.isArray(slackAcme.blocks) && slackAcme.blocks.length > 0).toBe(true)

    // PagerDuty Events v2: a trigger per incident, deduplicated by incident id.
    expect(
      bodies(pagerduty)
        .map((b) => [b.event_action, b.dedup_key])
        .sort(),
    ).toEqual(
      [
        ['trigger', acmeIncident],
        ['trigger', globexIncident],
      ].sort(),
    )
    const pdAcme = bodies(pagerduty).find((b) => b.dedup_key === acmeIncident) as Json
    expect(pdAcme).toMatchObject({ routing_key: 'e2e-routing-key', payload: { severity: 'critical' } })
    expect(pdAcme.payload.summary).toContain(SHOWCASE.spike)
    expect(typeof pdAcme.payload.source).toBe('string')

    // Webhook: signed, verifiable, one event per incident.
    expect(webhook.received).toHaveLength(2)
    // A plain secret signs as its whsec_ form: what the receiver gives the standardwebhooks library.
    const receiverSecret = `whsec_${Buffer.from(SECRET).toString('base64')}`
    for (const r of webhook.received) {
      expect(verifyStandardWebhook(receiverSecret, r, h.clock.ms)).toEqual(r.json)
    }
    expect(new Set(webhook.received.map((r) => r.headers['webhook-id'])).size).toBe(2)
    expect(
      bodies(webhook)
        .map((b) => b.data.incident.id)
        .sort(),
    ).toEqual([acmeIncident, globexIncident].sort())

    // SNS: the seed's subject and message fields, with filterable attributes.
    await vi.waitFor(() => expect(subscriber.notifications).toHaveLength(2))
    const snsAcme = snsMessages().find((n) => n.message.customer_id === SHOWCASE.spike) as Json
    expect(snsAcme.Subject).toBe(`[MeterFlow] Critical anomaly: ${SHOWCASE.spike} - api_calls`)
    expect(snsAcme.message).toMatchObject({
      customer_id: SHOWCASE.spike,
      metric: 'api_calls',
      detected_at: new Date(END).toISOString(),
      incident_id: acmeIncident,
      link: `https://meterflow.example.com/incidents/${encodeURIComponent(acmeIncident)}`,
    })
    for (const field of ['current_value', 'baseline_mean', 'z_score'])
      expect(typeof snsAcme.message[field]).toBe('number')
    expect(snsAcme.MessageAttributes.severity.Value).toBe('critical')

    // Email: one immediate mail per critical incident.
    expect(smtp.received).toHaveLength(2)
    const mail = smtp.received.find((m: ReceivedMail) => m.headers.get('subject')?.includes(SHOWCASE.spike))
    expect(mail?.envelopeTo).toEqual(['ops@example.com'])
    expect(mail?.text).toContain(acmeIncident)
  })

  it('the next hourly run, still anomalous, sends nothing new', async () => {
    // Usage goes on after the demo's end like the same hours last week (shifted copies, new event ids).
    const week = generateDemo({ customers: 4, days: 35, seed: 42, endMs: END })
    const copy: Record<string, unknown>[] = []
    for (const batch of week.batches()) {
      for (const e of batch) {
        if (e.timestampMs < END - 7 * DAY || e.timestampMs >= END - 6 * DAY) continue
        const moved = { ...e, timestampMs: e.timestampMs + 7 * DAY, eventId: `${e.eventId ?? 'e'}-w` }
        copy.push(toApiEvent(moved))
      }
    }
    h.clock.ms = END + DAY
    for (let i = 0; i < copy.length; i += 5000) await h.meterflow.ingest(copy.slice(i, i + 5000))

    const before = [slack, pagerduty, webhook].map((r) => r.received.length)
    const run = await runAndDeliver(END + HOUR)
    expect(run).toMatchObject({ incidents_opened: 0, incidents_escalated: 0, incidents_resolved: 0 })
    expect(run.anomalies_found).toBeGreaterThanOrEqual(2)
    expect([slack, pagerduty, webhook].map((r) => r.received.length)).toEqual(before)
    expect(subscriber.notifications).toHaveLength(2)
    expect(smtp.received).toHaveLength(2)
  })

  it('recovery: the resolve reaches PagerDuty and Slack', async () => {
    // The spike leaves the 24 h window at END + 22 h; two clean runs resolve.
    await runAndDeliver(END + 22 * HOUR)
    const run = await runAndDeliver(END + 23 * HOUR)
    expect(run.incidents_resolved).toBeGreaterThanOrEqual(1)
    const acme = (
      await h.app.inject({ method: 'GET', url: `/v1/incidents?customer_id=${SHOWCASE.spike}` })
    ).json()
    expect(acme.items[0]).toMatchObject({ id: acmeIncident, status: 'resolved' })

    const pdResolves = bodies(pagerduty).filter(
      (b) => b.event_action === 'resolve' && b.dedup_key === acmeIncident,
    )
    expect(pdResolves).toHaveLength(1)
    expect(pdResolves[0]).toEqual({
      routing_key: 'e2e-routing-key',
      event_action: 'resolve',
      dedup_key: acmeIncident,
    })
    const slackResolves = slack.received
      .filter(mentions(SHOWCASE.spike))
      .filter((r) => r.body.includes('Resolved'))
    expect(slackResolves).toHaveLength(1)
    // Email's default route takes openings and escalations only.
    expect(smtp.received.filter((m) => m.headers.get('subject')?.includes('Resolved'))).toHaveLength(0)
  })

  it('the ops digest summarises the day and goes to email only', async () => {
    const mails = smtp.received.length
    const others = [slack, pagerduty, webhook].map((r) => r.received.length)
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/alerts/digest',
      payload: { to: new Date(END + 23 * HOUR).toISOString() },
    })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toEqual({ enqueued: 1 })
    await h.meterflow.alerts.deliver()
    expect(smtp.received).toHaveLength(mails + 1)
    const digest = smtp.received.at(-1)
    expect(digest?.headers.get('subject')).toMatch(/digest/i)
    expect(digest?.text).toContain(SHOWCASE.spike)
    expect([slack, pagerduty, webhook].map((r) => r.received.length)).toEqual(others)
    // The same period again is the same digest: nothing new is enqueued.
    const again = await h.app.inject({
      method: 'POST',
      url: '/v1/alerts/digest',
      payload: { to: new Date(END + 23 * HOUR).toISOString() },
    })
    expect(again.json()).toEqual({ enqueued: 0 })
    const future = await h.app.inject({
      method: 'POST',
      url: '/v1/alerts/digest',
      payload: { to: new Date(h.clock.ms + DAY).toISOString() },
    })
    expect(future.statusCode).toBe(400)
    expect(future.json().details[0].field).toBe('to')
  })
})
