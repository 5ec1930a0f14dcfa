import { describe, expect, it } from 'vitest'
import { isLoopbackHost } from './auth-config.js'
import { loadConfig } from './config.js'

describe('METERFLOW_AUTH', () => {
  it('is on by default', () => {
    expect(loadConfig({}).auth.mode).toBe('on')
  })

  it('may be off on a loopback host only', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host)).toBe(true)
      expect(loadConfig({ METERFLOW_AUTH: 'off', METERFLOW_HOST: host }).auth.mode).toBe('off')
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '192.168.1.2',
      'example.com',
      '128.0.0.1',
      'localhost.evil',
    ]) {
      expect(isLoopbackHost(host)).toBe(false)
      expect(() => loadConfig({ METERFLOW_AUTH: 'off', METERFLOW_HOST: host })).toThrow(
        /auth\.mode \(METERFLOW_AUTH\): off is only allowed on a loopback host/,
      )
    }
    expect(loadConfig({ METERFLOW_HOST: '0.0.0.0' }).auth.mode).toBe('on')
  })

  it('refuses anything but on and off', () => {
    expect(() => loadConfig({ METERFLOW_AUTH: 'false' })).toThrow(/METERFLOW_AUTH/)
  })

  it('refuses a malformed METERFLOW_ADMIN_KEY without echoing it', () => {
    const secret = 'mf_hunter2-is-my-password'
    const err = (() => {
      try {
        loadConfig({ METERFLOW_ADMIN_KEY: secret })
      } catch (e) {
        return e as Error
      }
    })()
    expect(err?.message).toMatch(/METERFLOW_ADMIN_KEY/)
    expect(err?.message).not.toContain('hunter2')
  })

  it('bounds the rate limit', () => {
    expect(loadConfig({}).rateLimit).toEqual({ max: 3_000, windowMs: 60_000 })
    expect(() => loadConfig({ METERFLOW_RATE_LIMIT: '0' })).toThrow(/METERFLOW_RATE_LIMIT/)
    expect(() => loadConfig({ METERFLOW_RATE_LIMIT: '1e309' })).toThrow(/METERFLOW_RATE_LIMIT/)
    expect(() => loadConfig({ METERFLOW_RATE_LIMIT_WINDOW_MS: '10' })).toThrow(
      /METERFLOW_RATE_LIMIT_WINDOW_MS/,
    )
  })
})
