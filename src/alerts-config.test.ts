import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { webhookSecret } from './alerts-config.js'
import { ConfigError, loadConfig } from './config.js'

const secretOf = (env: string) => loadConfig({ METERFLOW_WEBHOOK_SECRET: env }).alerts.webhook.secret

describe('METERFLOW_WEBHOOK_SECRET', () => {
  it('keeps a Standard Webhooks whsec_ secret as given', () => {
    const spec = `whsec_${Buffer.alloc(32, 0xab).toString('base64')}`
    expect(secretOf(spec)).toBe(spec)
    const shortest = `whsec_${Buffer.alloc(24, 1).toString('base64')}`
    expect(secretOf(shortest)).toBe(shortest)
  })

  it('maps a plain secret to whsec_ + base64 of its bytes, so its bytes are the HMAC key', () => {
    const plain = 'a-plain-secret-of-24-chars'
    const secret = secretOf(plain)
    expect(secret).toBe(`whsec_${Buffer.from(plain).toString('base64')}`)
    const signature = new Webhook(secret as string).sign('msg_1', new Date(1_700_000_000_000), '{}')
    const mac = createHmac('sha256', plain).update('msg_1.1700000000.{}').digest('base64')
    expect(signature).toBe(`v1,${mac}`)
  })

  it('refuses short, long, non-ASCII and malformed secrets with the reason and without echoing them', () => {
    const cases: [string, RegExp][] = [
      ['short-secret-16-ch', /must be 24-64 characters, got 18/],
      ['x'.repeat(65), /must be 24-64 characters, got 65/],
      ['a plain secret with spaces in it', /printable ASCII without spaces/],
      ['ein-geheimnis-mit-ümlaut-und-mehr', /printable ASCII/],
      [`whsec_${Buffer.alloc(16, 1).toString('base64')}`, /whsec_ must decode to 24-64 bytes, got 16/],
      [`whsec_${Buffer.alloc(65, 1).toString('base64')}`, /whsec_ must decode to 24-64 bytes, got 65/],
      ['whsec_not base64 at all, not at all!!', /whsec_ must be followed by standard base64/],
      [`whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`, /standard base64/],
      [`whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`, /standard base64/],
    ]
    for (const [value, reason] of cases) {
      const result = webhookSecret.safeParse(value)
      expect(result.success, value).toBe(false)
      expect(result.error?.issues[0]?.message).toMatch(reason)
      let error: unknown
      try {
        loadConfig({ METERFLOW_WEBHOOK_SECRET: value })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(/alerts\.webhook\.secret \(METERFLOW_WEBHOOK_SECRET\)/)
      expect((error as Error).message).toMatch(reason)
      expect((error as Error).message).not.toContain(value)
    }
  })
})

describe('HTTP channel URLs', () => {
  const variables = ['METERFLOW_SLACK_WEBHOOK_URL', 'METERFLOW_WEBHOOK_URL', 'METERFLOW_PAGERDUTY_URL']
  const failure = (env: Record<string, string>): string => {
    try {
      loadConfig(env)
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      return (err as Error).message
    }
    throw new Error('accepted')
  }

  it('refuses a user name or password for every HTTP channel, naming the variable, never the secret', () => {
    for (const variable of variables) {
      for (const url of [
        'http://user:s3cr3t-pass@127.0.0.1:1/hook?token=t0k3n-value',
        'https://only-a-user-name@hooks.example.com/T000/B000/XXXXXXXXXXXX',
        'https://:s3cr3t-pass@hooks.example.com/',
      ]) {
        const message = failure({ METERFLOW_PAGERDUTY_ROUTING_KEY: 'rk', [variable]: url })
        expect(message).toContain(`(${variable}): must not contain a user name or password`)
        for (const secret of ['s3cr3t-pass', 't0k3n-value', 'only-a-user-name', 'XXXXXXXXXXXX']) {
          expect(message).not.toContain(secret)
        }
      }
    }
  })

  it('refuses what is not an http(s) URL, without quoting it', () => {
    for (const variable of variables) {
      expect(failure({ [variable]: 'ftp://files.example.com/secret-path' })).toMatch(
        new RegExp(`\\(${variable}\\): must be an http or https URL, not ftp:`),
      )
      const message = failure({ [variable]: 'hooks.example.com/secret-path' })
      expect(message).toContain(`(${variable}): must be an absolute http or https URL`)
      expect(message).not.toContain('secret-path')
    }
  })

  it('accepts plain http and https URLs, a secret path and a query string included', () => {
    const config = loadConfig({
      METERFLOW_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
      METERFLOW_WEBHOOK_URL: 'http://127.0.0.1:9000/hook?token=abc',
      METERFLOW_PAGERDUTY_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
    })
    expect(config.alerts.slack.webhookUrl).toBe('https://hooks.slack.com/services/T000/B000/XXXX')
    expect(config.alerts.webhook.url).toBe('http://127.0.0.1:9000/hook?token=abc')
    expect(config.alerts.pagerduty.url).toBe('https://events.eu.pagerduty.com/v2/enqueue')
    expect(loadConfig({}).alerts.pagerduty.url).toBe('https://events.pagerduty.com/v2/enqueue')
  })
})
