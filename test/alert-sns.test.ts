import { createServer, type Server } from 'node:http'
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ChannelContext } from '../src/adapters/alerts/registry.js'
import { createSnsClient, snsChannel } from '../src/adapters/alerts/sns/index.js'
import { loadConfig } from '../src/config.js'
import type { AlertChannel } from '../src/ports.js'
import { systemClock } from '../src/ports.js'
import { incidentAlert, stormAlert } from './alert-fixtures.js'
import { close, listen, SNS_REGION, startSnsServer, startSubscriber, urlOf } from './local-sns.js'

const REGION = SNS_REGION
const ACCOUNT = '123456789012'
const context: ChannelContext = { clock: systemClock, timeoutMs: 2_000, write: () => {} }

function channelFor(overrides: { topicArn: string; endpoint?: string; snsEndpoint?: string }): AlertChannel {
  const config = loadConfig(
    { METERFLOW_SNS_TOPIC_ARN: overrides.topicArn, METERFLOW_AWS_ENDPOINT: overrides.endpoint ?? '' },
    overrides.snsEndpoint === undefined ? {} : { alerts: { sns: { endpoint: overrides.snsEndpoint } } },
  )
  const channel = snsChannel.create(config, context)
  if (channel === null) throw new Error('SNS channel not configured')
  return channel
}

describe('SNS channel against serverless-offline-sns', () => {
  let sns: Server
  let subscriber: Awaited<ReturnType<typeof startSubscriber>>
  let filtered: Awaited<ReturnType<typeof startSubscriber>>
  let admin: SNSClient
  let topicArn: string

  beforeAll(async () => {
    sns = await startSnsServer()
    subscriber = await startSubscriber()
    filtered = await startSubscriber()
    admin = createSnsClient({ region: REGION, endpoint: urlOf(sns), env: {} })
    topicArn = (await admin.send(new CreateTopicCommand({ Name: 'meterflow-alerts' }))).TopicArn ?? ''
    await admin.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: urlOf(subscriber.server) }),
    )
    await admin.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'http',
        Endpoint: urlOf(filtered.server),
        Attributes: { FilterPolicy: JSON.stringify({ kind: ['storm'] }) },
      }),
    )
  })

  afterAll(async () => {
    admin?.destroy()
    await Promise.all(
      [sns, subscriber?.server, filtered?.server].filter(Boolean).map((s) => close(s as Server)),
    )
  })

  it('is off without a topic ARN', () => {
    expect(snsChannel.create(loadConfig({}), context)).toBeNull()
  })

  it('publishes subject, JSON message and filterable attributes that reach an HTTP subscriber', async () => {
    expect(topicArn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:meterflow-alerts`)
    // The endpoint comes from the anomaly store's (METERFLOW_AWS_ENDPOINT) when alerts.sns.endpoint is unset.
    const channel = channelFor({ topicArn, endpoint: urlOf(sns) })
    const alert = incidentAlert()
    expect(await channel.send(alert, { deliveryId: 'd-1', attempt: 1 })).toEqual({ status: 'delivered' })
    await channel.send(stormAlert(2), { deliveryId: 'd-2', attempt: 1 })
    await channel.close?.()

    await vi.waitFor(() => expect(subscriber.notifications).toHaveLength(2))
    const [incident, storm] = subscriber.notifications
    expect(incident).toMatchObject({
      Type: 'Notification',
      TopicArn: topicArn,
      Subject: '[MeterFlow] Critical anomaly: acme-corp - api_calls',
      MessageAttributes: {
        kind: { Type: 'String', Value: 'incident' },
        severity: { Type: 'String', Value: 'critical' },
        metric: { Type: 'String', Value: 'api_calls' },
        transition: { Type: 'String', Value: 'opened' },
      },
    })
    expect(JSON.parse(String(incident?.Message))).toMatchObject({
      customer_id: 'acme-corp',
      metric: 'api_calls',
      current_value: 125_000,
      baseline_mean: 10_000.5,
      z_score: 12.5,
      detected_at: '2024-05-01T10:00:00.000Z',
      severity: 'critical',
      direction: 'spike',
      transition: 'opened',
      incident_id: 'inc-1',
      alert_id: alert.id,
      link: alert.link,
    })
    expect(storm?.Subject).toBe('[MeterFlow] Alert storm: 120 incidents opened in one run (limit 50)')
    expect(Object.keys(storm?.MessageAttributes as object).sort()).toEqual(['kind', 'severity'])

    // A filter policy on the kind attribute lets the second subscriber take the storm summary only.
    await vi.waitFor(() => expect(filtered.notifications).toHaveLength(1))
    expect(JSON.parse(String(filtered.notifications[0]?.Message)).kind).toBe('storm')
  })

  it('sends a sanitized, shortened subject the SNS rules accept', async () => {
    const channel = channelFor({ topicArn, snsEndpoint: urlOf(sns) })
    const base = incidentAlert()
    const alert = incidentAlert({
      incident: { ...base.incident, customerId: `Müller\nGmbH ${'x'.repeat(120)}` },
    })
    const before = subscriber.notifications.length
    expect(await channel.send(alert, { deliveryId: 'd-3', attempt: 1 })).toEqual({ status: 'delivered' })
    await channel.close?.()
    await vi.waitFor(() => expect(subscriber.notifications).toHaveLength(before + 1))
    const subject = String(subscriber.notifications[before]?.Subject)
    expect(subject).toMatch(/^\[MeterFlow\] Critical anomaly: M\?ller GmbH x+\.\.\.$/)
    expect(subject.length).toBeLessThan(100)
    // The message itself keeps the customer id as it is.
    expect(JSON.parse(String(subscriber.notifications[before]?.Message)).customer_id).toContain(
      'Müller\nGmbH',
    )
  })

  it('gives a FIFO topic a message group', async () => {
    const fifoArn =
      (await admin.send(new CreateTopicCommand({ Name: 'meterflow-alerts.fifo' }))).TopicArn ?? ''
    const fifo = await startSubscriber()
    try {
      await admin.send(
        new SubscribeCommand({ TopicArn: fifoArn, Protocol: 'http', Endpoint: urlOf(fifo.server) }),
      )
      const channel = channelFor({ topicArn: fifoArn, snsEndpoint: urlOf(sns) })
      expect(await channel.send(incidentAlert(), { deliveryId: 'd-4', attempt: 1 })).toEqual({
        status: 'delivered',
      })
      await channel.close?.()
      await vi.waitFor(() => expect(fifo.notifications).toHaveLength(1))
      expect(fifo.notifications[0]?.MessageGroupId).toBe('meterflow-alerts')
    } finally {
      await close(fifo.server)
    }
  })
})

describe('SNS channel failures', () => {
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:missing`

  it('retries when the endpoint is down', async () => {
    const closed = await listen(createServer().listen(0, '127.0.0.1'))
    const endpoint = urlOf(closed)
    await close(closed)
    const channel = channelFor({ topicArn, snsEndpoint: endpoint })
    const result = await channel.send(incidentAlert(), { deliveryId: 'd-5', attempt: 1 })
    await channel.close?.()
    expect(result).toMatchObject({ status: 'retry', error: expect.stringContaining('ECONNREFUSED') })
    expect(result).toMatchObject({ error: expect.stringContaining(topicArn) })
  })

  it('retries when the endpoint does not answer within timeoutMs', async () => {
    const silent = await listen(createServer(() => {}).listen(0, '127.0.0.1'))
    try {
      const config = loadConfig(
        { METERFLOW_SNS_TOPIC_ARN: topicArn },
        { alerts: { sns: { endpoint: urlOf(silent) } } },
      )
      const channel = snsChannel.create(config, { ...context, timeoutMs: 300 })
      const started = Date.now()
      const result = await channel?.send(incidentAlert(), { deliveryId: 'd-6', attempt: 1 })
      await channel?.close?.()
      expect(result).toEqual({ status: 'retry', error: `SNS Publish to ${topicArn} timed out after 300 ms` })
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await close(silent)
    }
  })

  // serverless-offline-sns accepts a publish to any topic ARN, so a missing topic is answered here the way AWS
  // answers it (HTTP 404, query-protocol error XML): that proves the SDK's NotFound reaches us as `rejected`.
  it('rejects a publish to a topic that does not exist', async () => {
    const requests: string[] = []
    const aws = createServer((req, res) => {
      req.resume()
      requests.push(String(req.method))
      res.writeHead(404, { 'content-type': 'text/xml' })
      res.end(
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
          '<Code>NotFound</Code><Message>Topic does not exist</Message></Error>' +
          '<RequestId>5f1b2c3d-0000-4000-8000-000000000000</RequestId></ErrorResponse>',
      )
    })
    await listen(aws.listen(0, '127.0.0.1'))
    try {
      const channel = channelFor({ topicArn, snsEndpoint: urlOf(aws) })
      const result = await channel.send(incidentAlert(), { deliveryId: 'd-7', attempt: 1 })
      await channel.close?.()
      expect(result).toMatchObject({
        status: 'rejected',
        error: expect.stringContaining('NotFoundException: Topic does not exist (HTTP 404)'),
      })
      // One attempt: retrying is the outbox's job, with its own backoff.
      expect(requests).toEqual(['POST'])
    } finally {
      await close(aws)
    }
  })
})
