import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signWebhook, verifyWebhookSignature } from './sign.js'

const SECRET = 'whsec_3f9c1a7e5b2d4c6e8a0b'
const NOW = Date.UTC(2026, 10, 25, 12, 0, 5)
const TS = Math.floor(NOW / 1000)
const BODY = '{"id":"2026-11-25T12:00:00.000Z|opened|inc-1","type":"incident"}'

describe('signWebhook', () => {
  it('is v1= and the hex HMAC-SHA256 of "{timestamp}.{body}", so any language can check it', () => {
    const expected = createHmac('sha256', SECRET).update(`${TS}.${BODY}`).digest('hex')
    expect(signWebhook(SECRET, TS, BODY)).toBe(`v1=${expected}`)
    expect(signWebhook(SECRET, TS, Buffer.from(BODY))).toBe(`v1=${expected}`)
  })
})

describe('verifyWebhookSignature', () => {
  const signature = signWebhook(SECRET, TS, BODY)
  const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
    verifyWebhookSignature({
      secret: SECRET,
      timestamp: String(TS),
      signature,
      body: BODY,
      nowMs: NOW,
      ...over,
    })

  it('accepts a genuine request, as a string or a Buffer body and from node:http header values', () => {
    expect(verify()).toEqual({ ok: true })
    expect(verify({ body: Buffer.from(BODY), timestamp: TS })).toEqual({ ok: true })
    expect(verify({ signature: ['v1=00', signature] })).toEqual({ ok: true })
    // Two entries during a secret rotation: one matching is enough.
    expect(verify({ signature: `v1=${'a'.repeat(64)}, ${signature}` })).toEqual({ ok: true })
  })

  it('refuses a wrong secret, a tampered body, a changed timestamp or a malformed signature', () => {
    expect(verify({ secret: 'another-secret-of-16+' })).toEqual({ ok: false, reason: 'signature_mismatch' })
    expect(verify({ body: BODY.replace('incident', 'storm') })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    })
    expect(verify({ timestamp: String(TS + 1) })).toEqual({ ok: false, reason: 'signature_mismatch' })
    expect(verify({ signature: `${signature.slice(0, -1)}z` })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    })
    expect(verify({ signature: signature.toUpperCase().replace('V1', 'v1') })).toEqual({ ok: true })
  })

  it('tells missing and malformed headers apart', () => {
    expect(verify({ signature: undefined })).toEqual({ ok: false, reason: 'missing_signature' })
    expect(verify({ signature: 'v0=abc' })).toEqual({ ok: false, reason: 'missing_signature' })
    expect(verify({ timestamp: undefined })).toEqual({ ok: false, reason: 'malformed_timestamp' })
    expect(verify({ timestamp: '2026-11-25T12:00:05Z' })).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    })
  })

  it('refuses a replay outside the tolerance, either way, and honours a custom tolerance', () => {
    expect(verify({ nowMs: NOW + 300_000 })).toEqual({ ok: true })
    expect(verify({ nowMs: NOW + 301_000 })).toEqual({ ok: false, reason: 'stale_timestamp' })
    expect(verify({ nowMs: NOW - 301_000 })).toEqual({ ok: false, reason: 'stale_timestamp' })
    expect(verify({ nowMs: NOW + 30_000, toleranceSeconds: 10 })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    })
  })
})
