import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'
import { systemClock } from '../src/ports.js'
import { configuredChannels } from '../src/wiring.js'

const context = { clock: systemClock, timeoutMs: 1000, write: () => {} }

describe('channels from config', () => {
  it('switches a channel on by its environment variable alone, with its default route', () => {
    const config = loadConfig({
      METERFLOW_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/slack',
      METERFLOW_PAGERDUTY_ROUTING_KEY: 'key',
      METERFLOW_ALERT_CONSOLE: '0',
    })
    const channels = configuredChannels(config, context)
    expect(channels.map((c) => c.channel.name)).toEqual(['slack', 'pagerduty'])
    expect(channels.find((c) => c.channel.name === 'pagerduty')?.route.severities).toEqual(['critical'])
  })

  it('has only the console channel on a fresh install', () => {
    expect(configuredChannels(loadConfig({}), context).map((c) => c.channel.name)).toEqual(['console'])
  })

  it('overrides a route field by field from the config file', () => {
    const config = loadConfig(
      { METERFLOW_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/slack' },
      { alerts: { routes: { slack: { severities: ['critical'], ops: false } } } },
    )
    const slack = configuredChannels(config, context).find((c) => c.channel.name === 'slack')
    expect(slack?.route).toEqual({
      severities: ['critical'],
      transitions: ['opened', 'escalated', 'resolved'],
      ops: false,
      digest: false,
    })
  })

  it('refuses a route for a channel that does not exist, and bad channel settings, naming them', () => {
    const typo = loadConfig({}, { alerts: { routes: { slak: { ops: true } } } })
    expect(() => configuredChannels(typo, context)).toThrow(ConfigError)
    expect(() => configuredChannels(typo, context)).toThrow(/unknown channel slak/)
    expect(() => loadConfig({ METERFLOW_WEBHOOK_SECRET: 'short' })).toThrow(/METERFLOW_WEBHOOK_SECRET/)
    expect(() => loadConfig({ METERFLOW_ALERT_EMAIL_TO: 'not-an-address' })).toThrow(
      /METERFLOW_ALERT_EMAIL_TO/,
    )
    expect(() => loadConfig({ METERFLOW_DIGEST_SCHEDULE: 'every day' })).toThrow(/METERFLOW_DIGEST_SCHEDULE/)
  })
})
