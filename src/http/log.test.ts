import { describe, expect, it } from 'vitest'
import { redactUrl, serializeRequest } from './log.js'

const KEY = `mf_0123456789ab_${'A'.repeat(43)}`

describe('redactUrl', () => {
  it('leaves a URL without credentials alone', () => {
    for (const url of ['/v1/runs', '/v1/anomalies/check?customer_id=a&metric=api_calls', '/x?flag', '/x?']) {
      expect(redactUrl(url)).toBe(url)
    }
  })

  it('redacts the values of credential-named parameters, however spelt or encoded', () => {
    expect(redactUrl('/x?api_key=abc&limit=5')).toBe('/x?api_key=[redacted]&limit=5')
    expect(redactUrl('/x?API-KEY=abc')).toBe('/x?API-KEY=[redacted]')
    expect(redactUrl('/x?api%5Fkey=abc')).toBe('/x?api%5Fkey=[redacted]')
    expect(redactUrl('/x?x-api-key=abc&client_secret=s&sig=v&csrf_token=t')).toBe(
      '/x?x-api-key=[redacted]&client_secret=[redacted]&sig=[redacted]&csrf_token=[redacted]',
    )
    expect(redactUrl('/x?key=a&key=b')).toBe('/x?key=[redacted]&key=[redacted]')
  })

  it('redacts anything shaped like an API key, wherever it is', () => {
    expect(redactUrl(`/v1/keys/${KEY}`)).toBe('/v1/keys/[redacted]')
    expect(redactUrl(`/x?q=${KEY}&n=1`)).toBe('/x?q=[redacted]&n=1')
    expect(redactUrl(`/x?${KEY}`)).toBe('/x?[redacted]')
    expect(redactUrl(`/x?${KEY}=1`)).toBe('/x?[redacted]=1')
    expect(redactUrl('/x?q=mf_0123ab')).toBe('/x?q=[redacted]')
    expect(redactUrl('/x?q=mf%5F0123ab')).toBe('/x?q=[redacted]')
    expect(redactUrl('/x?q=sent-mf_0123ab&mf=1')).toBe('/x?q=[redacted]&mf=1')
    expect(redactUrl('/v1/incidents/mf_corp%7Capi_calls')).toBe('/v1/incidents/mf_corp%7Capi_calls')
  })
})

describe('serializeRequest', () => {
  it('copes with whatever is logged under req', () => {
    expect(serializeRequest({})).toMatchObject({ method: undefined, url: undefined })
    expect(serializeRequest({ method: 'GET', url: '/x?token=t' })).toMatchObject({
      url: '/x?token=[redacted]',
    })
  })
})
