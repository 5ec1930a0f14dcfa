import { describe, expect, it } from 'vitest'
import { detectionStatistic, detectionWindow, type IncidentAlert } from '../../domain/alert.js'
import { mailDocument, renderText } from './email/format.js'
import { pagerDutyEvent } from './pagerduty/format.js'
import { slackMessage } from './slack/format.js'
import { snsMessage } from './sns/format.js'
import { webhookPayload } from './webhook/format.js'

// Every channel renders a shape detection by its own statistic (similarity against the threshold), not as a
// z-score it does not have.

const SLOT = Date.UTC(2026, 10, 25, 6)
const DAY = 86_400_000

const alert: IncidentAlert = {
  kind: 'incident',
  id: `2026-11-25T06:00:00.000Z|opened|acme-corp|api_calls|2026-11-25T06:00:00.000Z`,
  severity: 'critical',
  createdAt: SLOT,
  title: 'Critical anomaly: acme-corp - api_calls',
  link: null,
  transition: 'opened',
  incident: {
    id: 'acme-corp|api_calls|2026-11-25T06:00:00.000Z',
    customerId: 'acme-corp',
    metric: 'api_calls',
    status: 'open',
    severity: 'critical',
    direction: 'spike',
    openedAt: SLOT,
    resolvedAt: null,
    peakZScore: 0,
    openedBySignal: 'shape',
    firingSignals: ['shape'],
  },
  detection: {
    signal: 'shape',
    slot: SLOT,
    currentValue: 800,
    baselineMean: 805,
    baselineStddev: 12,
    zScore: null,
    shapeSimilarity: 0.1234,
    shapeThreshold: 0.9,
    windowStart: SLOT - DAY,
    windowEnd: SLOT,
  },
}

describe('a shape alert', () => {
  it('states its statistic as a similarity against the threshold', () => {
    expect(detectionStatistic(alert.detection)).toBe('shape similarity 0.12 < threshold 0.90')
    expect(detectionStatistic({ ...alert.detection, signal: 'volume', zScore: 4.2 })).toBe('z-score 4.20')
    // Volume names the window that fired when the alert recorded it; shape's own window is the day profile.
    expect(
      detectionStatistic({ ...alert.detection, signal: 'volume', zScore: 4.2, windowKind: 'recent' }),
    ).toBe('z-score 4.20 in the recent window')
    expect(detectionWindow({ ...alert.detection, windowKind: 'day' })).toBeNull()
  })

  it('is rendered by its similarity on every channel', () => {
    const slack = JSON.stringify(slackMessage(alert))
    expect(slack).toContain('shape similarity 0.12 < threshold 0.90')
    expect(slack).toContain('Shape similarity')
    expect(slack).not.toContain('z-score n/a')

    const mail = renderText(mailDocument(alert))
    expect(mail).toMatch(/Shape similarity:\s+0\.12/)
    expect(mail).toMatch(/Shape threshold:\s+0\.9/)
    expect(mail).not.toMatch(/^Z-score/m)

    const pd = pagerDutyEvent(alert, 'R0ZX8Y7W6V5U4T3S2R1Q0P9O8N7M6L5K')
    if (!pd || !('payload' in pd)) throw new Error('expected a trigger event')
    expect(pd.payload.summary).toContain('(shape similarity 0.12 < threshold 0.90, spike)')
    expect(pd.payload.custom_details).toMatchObject({
      signal: 'shape',
      shape_similarity: 0.1234,
      shape_threshold: 0.9,
    })

    const webhook = webhookPayload(alert)
    expect(webhook.data.detection).toMatchObject({
      signal: 'shape',
      shape_similarity: 0.1234,
      shape_threshold: 0.9,
    })

    expect(JSON.parse(snsMessage(alert))).toMatchObject({
      signal: 'shape',
      opened_by_signal: 'shape',
      shape_similarity: 0.1234,
      shape_threshold: 0.9,
      z_score: null,
    })
  })
})
