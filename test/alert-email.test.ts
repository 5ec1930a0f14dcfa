import { once } from 'node:events'
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emailChannel } from '../src/adapters/alerts/email/index.js'
import type { ChannelContext } from '../src/adapters/alerts/registry.js'
import { loadConfig } from '../src/config.js'
import { deliveryId } from '../src/domain/alert.js'
import { systemClock } from '../src/ports.js'
import { digestAlert, incidentAlert } from './alert-fixtures.js'
import { startSmtp } from './local-smtp.js'

const context: ChannelContext = { clock: systemClock, timeoutMs: 2_000, write: () => {} }
const FROM = 'meterflow@alerts.example.com'

function channelFor(smtpUrl: string, to: string, timeoutMs = context.timeoutMs) {
  const config = loadConfig({
    METERFLOW_SMTP_URL: smtpUrl,
    METERFLOW_ALERT_EMAIL_TO: to,
    METERFLOW_ALERT_EMAIL_FROM: FROM,
  })
  const channel = emailChannel.create(config, { ...context, timeoutMs })
  if (channel === null) throw new Error('email channel not configured')
  return channel
}

describe('email channel against smtp-server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>

  beforeAll(async () => {
    smtp = await startSmtp()
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => smtp?.server.close(() => resolve()))
  })

  it('is off without an SMTP URL and refuses to start without recipients', () => {
    expect(emailChannel.create(loadConfig({}), context)).toBeNull()
    expect(() => emailChannel.create(loadConfig({ METERFLOW_SMTP_URL: smtp.url }), context)).toThrow(
      /METERFLOW_ALERT_EMAIL_TO/,
    )
  })

  it('mails a critical incident with a Message-ID that a re-send repeats', async () => {
    const channel = channelFor(smtp.url, 'ops@example.com, oncall@example.com')
    const alert = incidentAlert({ title: 'Critical anomaly: acme-corp <&> - api_calls' })
    const before = smtp.received.length
    const id = deliveryId(alert.id, 'email')
    expect(await channel.send(alert, { deliveryId: id, attempt: 1 })).toEqual({
      status: 'delivered',
    })
    expect(await channel.send(alert, { deliveryId: id, attempt: 2 })).toEqual({
      status: 'delivered',
    })
    await channel.close?.()

    const [first, again] = smtp.received.slice(before)
    expect(first?.envelopeTo).toEqual(['ops@example.com', 'oncall@example.com'])
    expect(first?.headers.get('from')).toBe(FROM)
    expect(first?.headers.get('to')).toBe('ops@example.com, oncall@example.com')
    expect(first?.headers.get('subject')).toBe('[MeterFlow] Critical anomaly: acme-corp - api_calls')
    expect(first?.headers.get('message-id')).toBe(
      '<2024-05-01T10%3A00%3A00%2E000Z-inc-1-opened%3Eemail@alerts.example.com>',
    )
    expect(again?.headers.get('message-id')).toBe(first?.headers.get('message-id'))
    expect(first?.headers.get('x-meterflow-alert-id')).toBe(alert.id)
    expect(first?.text).toMatch(/^Customer: +acme-corp$/m)
    expect(first?.text).toMatch(/^Z-score: +12.5$/m)
    expect(first?.text).toContain('Open in MeterFlow: https://meterflow.example.com/incidents/inc-1')
    expect(first?.html).toContain('<h2>Critical anomaly: acme-corp &lt;&amp;&gt; - api_calls</h2>')
    expect(first?.html).toContain('<a href="https://meterflow.example.com/incidents/inc-1">')
  })

  it('mails the digest with its counts and incident table', async () => {
    const channel = channelFor(smtp.url, 'ops@example.com')
    const before = smtp.received.length
    expect(await channel.send(digestAlert(3), { deliveryId: 'digest-1:email', attempt: 1 })).toEqual({
      status: 'delivered',
    })
    await channel.close?.()
    const mail = smtp.received[before]
    expect(mail?.headers.get('subject')).toBe(
      '[MeterFlow] Daily digest 2024-05-02: 3 opened, 1 resolved, 2 still open',
    )
    expect(mail?.text).toMatch(/^Still open: +2$/m)
    expect(mail?.text).toContain(
      '  open | critical | customer-2 | storage_bytes | spike | 2024-05-01T09:02:00.000Z',
    )
    expect(mail?.html).toContain('&lt;b&gt;evil &amp; co&lt;/b&gt;')
    expect(mail?.html).not.toContain('<b>evil')
  })

  it('rejects a mail whose recipient the server refuses for good (550), without leaking the password', async () => {
    const channel = channelFor(smtp.url, 'reject@example.com')
    const result = await channel.send(incidentAlert(), { deliveryId: 'd-550', attempt: 1 })
    await channel.close?.()
    expect(result).toMatchObject({ status: 'rejected', error: expect.stringContaining('550') })
    expect(result).toMatchObject({ error: expect.stringContaining('No such mailbox') })
    expect(result).toMatchObject({ error: expect.stringContaining(new URL(smtp.url).host) })
    expect(JSON.stringify(result)).not.toContain('s3cret')
  })

  it('retries a temporary refusal (451)', async () => {
    const channel = channelFor(smtp.url, 'later@example.com')
    const result = await channel.send(incidentAlert(), { deliveryId: 'd-451', attempt: 1 })
    await channel.close?.()
    expect(result).toMatchObject({ status: 'retry', error: expect.stringContaining('451') })
  })

  it('retries when every recipient is refused but one only temporarily; rejects when all are permanent', async () => {
    const mixed = channelFor(smtp.url, 'later@example.com, reject@example.com')
    expect((await mixed.send(incidentAlert(), { deliveryId: 'd-mixed', attempt: 1 })).status).toBe('retry')
    await mixed.close?.()
    const dead = channelFor(smtp.url, 'reject1@example.com, reject2@example.com')
    expect((await dead.send(incidentAlert(), { deliveryId: 'd-dead', attempt: 1 })).status).toBe('rejected')
    await dead.close?.()
  })

  it('counts a mail accepted for some recipients as delivered (a retry would mail the others twice)', async () => {
    const channel = channelFor(smtp.url, 'ops@example.com, reject@example.com')
    const before = smtp.received.length
    expect(await channel.send(incidentAlert(), { deliveryId: 'd-partial', attempt: 1 })).toEqual({
      status: 'delivered',
    })
    await channel.close?.()
    expect(smtp.received[before]?.envelopeTo).toEqual(['ops@example.com'])
  })
})

describe('email channel without a working server', () => {
  it('retries when the server is down', async () => {
    const closed = createTcpServer().listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const channel = channelFor(`smtp://127.0.0.1:${port}`, 'ops@example.com')
    const result = await channel.send(incidentAlert(), { deliveryId: 'd-down', attempt: 1 })
    await channel.close?.()
    expect(result).toMatchObject({ status: 'retry', error: expect.stringContaining('ECONNREFUSED') })
  })

  it('retries when the server never greets, within timeoutMs', async () => {
    const sockets = new Set<import('node:net').Socket>()
    const mute: TcpServer = createTcpServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1')
    await once(mute, 'listening')
    try {
      const { port } = mute.address() as AddressInfo
      const channel = channelFor(`smtp://127.0.0.1:${port}`, 'ops@example.com', 300)
      const started = Date.now()
      const result = await channel.send(incidentAlert(), { deliveryId: 'd-mute', attempt: 1 })
      await channel.close?.()
      expect(result).toMatchObject({ status: 'retry', error: expect.stringContaining('ETIMEDOUT') })
      expect(Date.now() - started).toBeLessThan(3_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => mute.close(() => resolve()))
    }
  })
})
