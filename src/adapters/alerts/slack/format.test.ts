import { describe, expect, it } from 'vitest'
import type { DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../../../domain/alert.js'
import { escapeMrkdwn, SLACK_LIMITS, type SlackMessage, slackMessage } from './format.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const DAY = 86_400_000

function incident(
  transition: IncidentAlert['transition'] = 'opened',
  link: string | null = null,
): IncidentAlert {
  const resolved = transition === 'resolved'
  return {
    kind: 'incident',
    id: `2026-11-25T12:00:00.000Z|${transition}|acme-corp|api_calls|2026-11-25T10:00:00.000Z`,
    severity: 'critical',
    createdAt: SLOT,
    title: `${resolved ? 'Resolved: critical' : 'Critical'} anomaly: acme-corp - api_calls`,
    link,
    transition,
    incident: {
      id: 'acme-corp|api_calls|2026-11-25T10:00:00.000Z',
      customerId: 'acme-corp',
      metric: 'api_calls',
      status: resolved ? 'resolved' : 'open',
      severity: 'critical',
      direction: 'spike',
      openedAt: SLOT - 2 * 3_600_000,
      resolvedAt: resolved ? SLOT : null,
      peakZScore: 9.81,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    },
    detection: {
      signal: 'volume',
      slot: SLOT,
      currentValue: resolved ? 10_250 : 48_210,
      baselineMean: 10_020.4,
      baselineStddev: 3_890.25,
      zScore: resolved ? 0.06 : 9.81,
      windowStart: SLOT - DAY,
      windowEnd: SLOT,
    },
  }
}

const base = { severity: 'critical' as const, createdAt: SLOT, link: null }
const storm = (sample: number, opened = 120): StormAlert => ({
  ...base,
  kind: 'storm',
  id: '2026-11-25T12:00:00.000Z|storm',
  title: `Alert storm: ${opened} incidents opened in one run (limit 50), possible system issue`,
  storm: {
    runId: 'run-7f3a',
    slot: SLOT,
    opened,
    limit: 50,
    sample: Array.from({ length: sample }, (_, n) => ({
      incidentId: `cust-${n}|api_calls|2026-11-25T12:00:00.000Z`,
      customerId: `cust-${n}`,
      metric: 'api_calls',
      severity: 'critical' as const,
      direction: 'drop' as const,
    })),
  },
})
const job = (problem: 'failed' | 'slow', error: string | null = null): JobHealthAlert => ({
  ...base,
  kind: 'job_health',
  id: `2026-11-25T12:00:05.000Z|job_${problem}|run-7f3a`,
  title:
    problem === 'failed' ? 'Detection run failed for slot 2026-11-25T12:00:00.000Z' : 'Detection run slow',
  job: {
    problem,
    runId: 'run-7f3a',
    slot: SLOT,
    durationMs: problem === 'failed' ? 4_200 : 725_000,
    limitMs: problem === 'failed' ? null : 600_000,
    error,
  },
})
const digest = (count: number, customerId = (n: number) => `customer-${n}`): DigestAlert => ({
  ...base,
  kind: 'digest',
  id: '2026-11-26T08:00:00.000Z|digest',
  title: `MeterFlow daily digest: ${count} opened, 3 resolved, ${count} open`,
  digest: {
    from: SLOT - DAY,
    to: SLOT,
    opened: count,
    resolved: 3,
    stillOpen: count,
    incidents: Array.from({ length: count }, (_, n) => ({
      id: `${customerId(n)}|storage_gb|2026-11-25T09:00:00.000Z`,
      customerId: customerId(n),
      metric: 'storage_gb',
      status: 'open' as const,
      severity: n % 2 ? ('warning' as const) : ('critical' as const),
      direction: 'spike' as const,
      openedAt: SLOT - 3 * 3_600_000,
      resolvedAt: null,
      peakZScore: 4.2 + n / 100,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    })),
  },
})

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Every documented limit, checked on the whole message. */
function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeGreaterThan(0)
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks)
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText)
  const texts: string[] = [message.text]
  for (const block of message.blocks) {
    if (block.type === 'header') {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText)
      texts.push(block.text.text)
    } else if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText)
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.fields)
      for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText)
      texts.push(block.text?.text ?? '', ...(block.fields ?? []).map((f) => f.text))
    } else {
      expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements)
      texts.push(...block.elements.map((e) => e.text))
    }
  }
  for (const t of texts) expect(LONE_SURROGATE.test(t), t.slice(-20)).toBe(false)
}

const allText = (m: SlackMessage) => JSON.stringify(m.blocks)

describe('slackMessage: incidents', () => {
  it('says what opened, for whom, the value against the baseline, the z-score and the incident id', () => {
    const m = slackMessage(incident('opened', 'https://meterflow.example.com/incidents/acme?x=1&y=2'))
    expectWithinLimits(m)
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':red_circle: Critical anomaly: acme-corp - api_calls', emoji: true },
    })
    const text = allText(m)
    expect(text).toContain('*Opened*: critical spike on `api_calls` for *acme-corp*')
    expect(text).toContain('48,210 vs a baseline mean of 10,020.4 (+381%)')
    expect(text).toContain('z-score 9.81')
    expect(text).toContain('10,020.4 ± 3,890.25')
    expect(text).toContain('acme-corp|api_calls|2026-11-25T10:00:00.000Z')
    expect(text).toContain('<!date^1795608000^{date_short_pretty} {time}|2026-11-25 12:00 UTC>')
    // & is escaped inside the link, as Slack requires.
    expect(text).toContain('<https://meterflow.example.com/incidents/acme?x=1&amp;y=2|Open in MeterFlow>')
    expect(m.text).toBe(
      'Critical anomaly: acme-corp - api_calls <https://meterflow.example.com/incidents/acme?x=1&amp;y=2|Open>',
    )
  })

  it('names the volume window that fired in the summary and beside the window times', () => {
    const alert = incident('opened')
    alert.detection = { ...alert.detection, windowStart: SLOT - 3_600_000, windowKind: 'recent' }
    const text = allText(slackMessage(alert))
    expect(text).toContain('z-score 9.81 in the recent window.')
    expect(text).toMatch(/Window <!date[^>]*> to <!date[^>]*> \(recent window\)/)
    // Alerts raised before windows were recorded say nothing about it.
    expect(allText(slackMessage(incident('opened')))).not.toContain(' window)')
  })

  it('names escalations and resolutions, and leaves the link out when there is none', () => {
    const escalated = slackMessage(incident('escalated'))
    expect(allText(escalated)).toContain('*Escalated*: critical spike')
    const resolved = slackMessage(incident('resolved'))
    expect(resolved.blocks[0]).toMatchObject({
      text: { text: expect.stringMatching(/^:white_check_mark: /) },
    })
    expect(allText(resolved)).toContain('*Resolved*: `api_calls` for *acme-corp* is back to normal at 10,250')
    expect(allText(resolved)).toContain('Peak z-score was 9.81, open for 2h 0m')
    expect(allText(resolved)).not.toContain('Open in MeterFlow')
  })

  it('escapes control characters from data so a customer id cannot mention @channel or forge a link', () => {
    const alert = incident()
    alert.incident.customerId = '<!channel> & <https://evil.example|click>'
    const text = allText(slackMessage(alert))
    expect(text).not.toContain('<!channel>')
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;')
  })

  it('truncates over-long values inside the limits without splitting an emoji or an entity', () => {
    const alert = incident()
    // ':red_circle: ' is 13 units, so the emoji's two halves sit at 148 and 149, across the cut.
    alert.title = `${'x'.repeat(135)}😀 tail`
    alert.incident.customerId = `${'&'.repeat(5000)}`
    alert.incident.metric = '😀'.repeat(3000)
    const m = slackMessage(alert)
    expectWithinLimits(m)
    expect(m.blocks[0]).toMatchObject({ text: { text: expect.stringMatching(/x…$/) } })
    expect(allText(m)).not.toMatch(/&a?m?…/)
  })
})

describe('slackMessage: ops alerts and the digest', () => {
  it('summarises a storm with its sample and counts the incidents not listed', () => {
    const m = slackMessage(storm(20))
    expectWithinLimits(m)
    const text = allText(m)
    expect(text).toContain('opened *120* incidents, more than the storm limit of 50')
    expect(text).toContain('*cust-19* · `api_calls`')
    expect(text).toContain('…and 100 more')
  })

  it('shows a failed run with its error in a code block, and a slow run with duration against the limit', () => {
    const failed = slackMessage(job('failed', 'ClickHouse timeout: `SELECT` took too long'))
    expectWithinLimits(failed)
    expect(allText(failed)).toContain("```ClickHouse timeout: 'SELECT' took too long```")
    expect(allText(failed)).toContain('failed after 4s')
    const slow = slackMessage(job('slow'))
    expect(allText(slow)).toContain('took *12m 5s*, over the limit of 10m 0s')
  })

  it('keeps a huge error inside one section', () => {
    const m = slackMessage(job('failed', `Error: boom\n${'    at frame (file.ts:1:1)\n'.repeat(500)}`))
    expectWithinLimits(m)
    const code = m.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('```'))
    expect(code).toMatchObject({ text: { text: expect.stringMatching(/…```$/) } })
  })

  it('lists digest incidents in as many sections as fit and counts the rest', () => {
    const small = slackMessage(digest(3))
    expectWithinLimits(small)
    expect(allText(small)).toContain('*Still open*\\n3')
    expect(allText(small)).toContain('*customer-2* · `storage_gb`, peak z 4.22')
    expect(allText(small)).not.toContain('more')

    const huge = slackMessage(digest(5000, (n) => `${'long-customer-name-'.repeat(8)}${n}`))
    expectWithinLimits(huge)
    const listed = allText(huge).match(/peak z/g)?.length ?? 0
    expect(listed).toBeGreaterThan(100)
    expect(allText(huge)).toContain(`…and ${(5000 - listed).toLocaleString('en-US')} more`)
  })
})

describe('escapeMrkdwn', () => {
  it('escapes exactly &, < and >', () => {
    expect(escapeMrkdwn('a & b < c > d *e*')).toBe('a &amp; b &lt; c &gt; d *e*')
  })
})
