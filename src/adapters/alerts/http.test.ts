import { describe, expect, it } from 'vitest'
import { describeFailure, parseRetryAfter, truncate } from './http.js'

describe('truncate', () => {
  it('leaves short text alone and ends cut text in an ellipsis within the limit', () => {
    expect(truncate('short', 10)).toBe('short')
    expect(truncate('abcdefghij', 5)).toBe('abcd…')
  })

  it('never keeps half of a surrogate pair', () => {
    const cut = truncate('abc😀def', 5)
    expect(cut).toBe('abc…')
    expect(truncate('😀😀😀', 4)).toBe('😀…')
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 25, 12)
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0)
  })

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})

describe('describeFailure', () => {
  const fetchFailed = (cause: Error) => new TypeError('fetch failed', { cause })
  const net = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields)

  it('says in words what the network did, naming addresses, not URLs', () => {
    const refused = net('connect ECONNREFUSED 127.0.0.1:9', {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 9,
    })
    expect(describeFailure(fetchFailed(refused), 1000)).toBe('connection refused (127.0.0.1:9)')
    // Node tries each address of a name: every one is named.
    const both = Object.assign(
      new AggregateError([
        net('connect ECONNREFUSED ::1:9', { code: 'ECONNREFUSED', address: '::1', port: 9 }),
        refused,
      ]),
      { code: 'ECONNREFUSED' },
    )
    expect(describeFailure(fetchFailed(both), 1000)).toBe('connection refused (::1:9, 127.0.0.1:9)')
    const missing = net('getaddrinfo ENOTFOUND hooks.example', {
      code: 'ENOTFOUND',
      hostname: 'hooks.example',
    })
    expect(describeFailure(fetchFailed(missing), 1000)).toBe('host hooks.example was not found (ENOTFOUND)')
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    })
    expect(describeFailure(timeout, 250)).toBe('no answer within 250 ms')
  })

  it('falls back to the messages and the code', () => {
    const tls = net('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    expect(describeFailure(fetchFailed(tls), 1000)).toBe(
      'fetch failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    )
    expect(describeFailure('a string', 1000)).toBe('the request failed')
  })
})
