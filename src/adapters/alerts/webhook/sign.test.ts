import { createHmac } from 'node:crypto'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { webhookHeaders, webhookMessageId } from './sign.js'

// A 32-byte key in the spec's serialisation, as a receiver would be given it.
const KEY = Buffer.from('meterflow-test-key-of-32-bytes!!')
const SECRET = `whsec_${KEY.toString('base64')}`
const NOW = Date.UTC(2026, 10, 25, 12, 0, 5)
const DELIVERY_ID = '2026-11-25T12:00:00.000Z|opened|acme.corp|api_calls|2026-11-25T10:00:00.000Z>webhook'
const BODY = '{"id":"2026-11-25T12:00:00.000Z|opened|acme.corp|api_calls","type":"incident"}'

/** What a receiver in Node does: the library's verify, with its clock at `atMs`. */
function receive(headers: object, body: string, atMs = NOW, secret = SECRET): unknown {
  vi.setSystemTime(atMs)
  return new Webhook(secret).verify(body, headers as Record<string, string>)
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('webhookMessageId', () => {
  it('is stable per delivery, distinct across deliveries, and free of "." and of the ids it is made from', () => {
    const id = webhookMessageId(DELIVERY_ID)
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{43}$/)
    expect(webhookMessageId(DELIVERY_ID)).toBe(id)
    expect(webhookMessageId(DELIVERY_ID.replace('opened', 'resolved'))).not.toBe(id)
    expect(id).not.toContain('acme')
  })
})

describe('webhookHeaders', () => {
  const signer = new Webhook(SECRET)

  it("carry the message id, the attempt's unix seconds and a v1 signature the standardwebhooks library accepts", () => {
    const headers = webhookHeaders(signer, DELIVERY_ID, NOW + 999, BODY)
    expect(headers).toEqual({
      'webhook-id': webhookMessageId(DELIVERY_ID),
      'webhook-timestamp': String(Math.floor(NOW / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    })
    expect(receive(headers, BODY)).toEqual(JSON.parse(BODY))
  })

  it('sign "{id}.{timestamp}.{body}" with HMAC-SHA256 under the decoded key, as the spec writes it', () => {
    const headers = webhookHeaders(signer, DELIVERY_ID, NOW, BODY)
    const mac = createHmac('sha256', KEY)
      .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${BODY}`)
      .digest('base64')
    expect(headers['webhook-signature']).toBe(`v1,${mac}`)
  })

  it('fail verification for a tampered body, another id, another secret, or a timestamp off by over 5 minutes', () => {
    const headers = webhookHeaders(signer, DELIVERY_ID, NOW, BODY)
    const refused = (fn: () => unknown, message: RegExp) => {
      expect(fn).toThrow(WebhookVerificationError)
      expect(fn).toThrow(message)
    }
    refused(() => receive(headers, BODY.replace('incident', 'storm')), /No matching signature/)
    refused(
      () => receive({ ...headers, 'webhook-id': webhookMessageId('other') }, BODY),
      /No matching signature/,
    )
    refused(() => receive({ ...headers, 'webhook-timestamp': String(NOW / 1000 + 1) }, BODY), /No matching/)
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
    refused(() => receive(headers, BODY, NOW, otherSecret), /No matching signature/)
    // The same captured request replayed six minutes later, or arriving from a clock six minutes ahead.
    expect(receive(headers, BODY, NOW + 300_000)).toEqual(JSON.parse(BODY))
    refused(() => receive(headers, BODY, NOW + 360_000), /timestamp too old/)
    refused(() => receive(headers, BODY, NOW - 360_000), /timestamp too new/)
  })

  it('leave the signature out without a secret, which receivers using the library refuse', () => {
    const headers = webhookHeaders(null, DELIVERY_ID, NOW, BODY)
    expect(headers).toEqual({
      'webhook-id': webhookMessageId(DELIVERY_ID),
      'webhook-timestamp': String(Math.floor(NOW / 1000)),
    })
    expect(() => receive(headers, BODY)).toThrow(/Missing required headers/)
  })
})
