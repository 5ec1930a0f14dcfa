import { describe, expect, it } from 'vitest'
import type { DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../../../domain/alert.js'
import { dedupKey, PAGERDUTY_LIMITS, pagerDutyEvent } from './format.js'

const KEY = 'R0ZX8Y7W6V5U4T3S2R1Q0P9O8N7M6L5K'
const SLOT = Date.UTC(2026, 10, 25, 12)
const INCIDENT_ID = 'acme-corp|api_calls|2026-11-25T10:00:00.000Z'

function incident(transition: IncidentAlert['transition'], link: string | null = null): IncidentAlert {
  return {
    kind: 'incident',
    id: `2026-11-25T12:00:00.000Z|${transition}|${INCIDENT_ID}`,
    severity: 'critical',
    createdAt: SLOT,
    title: 'Critical anomaly: acme-corp - api_calls',
    link,
    transition,
    incident: {
      id: INCIDENT_ID,
      customerId: 'acme-corp',
      metric: 'api_calls',
      status: transition === 'resolved' ? 'resolved' : 'open',
      severity: 'critical',
      direction: 'drop',
      openedAt: SLOT - 7_200_000,
      resolvedAt: null,
      peakZScore: 8.2,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    },
    detection: {
      signal: 'volume',
      slot: SLOT,
      currentValue: 310,
      baselineMean: 10_020.4,
      baselineStddev: 1_200.5,
      zScore: -8.09,
      windowStart: SLOT - 86_400_000,
      windowEnd: SLOT,
      windowKind: 'day',
    },
  }
}

describe('pagerDutyEvent: incidents', () => {
  it('triggers an opened incident keyed by the incident id, with the documented payload fields', () => {
    const event = pagerDutyEvent(incident('opened', 'https://meterflow.example.com/i/1'), KEY)
    expect(event).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: INCIDENT_ID,
      payload: {
        summary:
          'Critical anomaly: acme-corp - api_calls: 310 vs baseline mean 10,020.4 (z -8.09 in the day window, drop)',
        severity: 'critical',
        source: 'acme-corp',
        component: 'api_calls',
        group: 'usage',
        class: 'usage_drop',
        timestamp: '2026-11-25T12:00:00.000Z',
        custom_details: expect.objectContaining({
          transition: 'opened',
          incident_id: INCIDENT_ID,
          current_value: 310,
          baseline_mean: 10_020.4,
          z_score: -8.09,
          window_start: '2026-11-24T12:00:00.000Z',
          window_kind: 'day',
        }),
      },
      client: 'MeterFlow',
      client_url: 'https://meterflow.example.com/i/1',
      links: [{ href: 'https://meterflow.example.com/i/1', text: 'Open in MeterFlow' }],
    })
  })

  it('names the volume window that fired (recent), and none for an alert raised before windows were recorded', () => {
    const recent = incident('opened')
    recent.detection = { ...recent.detection, windowStart: SLOT - 3_600_000, windowKind: 'recent' }
    const event = pagerDutyEvent(recent, KEY)
    if (event?.event_action !== 'trigger') throw new Error('expected a trigger')
    expect(event.payload.summary).toContain('(z -8.09 in the recent window, drop)')
    expect(event.payload.custom_details).toMatchObject({ window_kind: 'recent' })
    const older = incident('opened')
    delete older.detection.windowKind
    const old = pagerDutyEvent(older, KEY)
    if (old?.event_action !== 'trigger') throw new Error('expected a trigger')
    expect(old.payload.summary).toContain('(z -8.09, drop)')
    expect(JSON.parse(JSON.stringify(old.payload.custom_details))).not.toHaveProperty('window_kind')
  })

  it('collapses an escalation into the same PagerDuty incident and resolves it with the minimal body', () => {
    const escalated = pagerDutyEvent(incident('escalated'), KEY)
    expect(escalated).toMatchObject({ event_action: 'trigger', dedup_key: INCIDENT_ID })
    expect(escalated).not.toHaveProperty('links')
    expect(pagerDutyEvent(incident('resolved'), KEY)).toEqual({
      routing_key: KEY,
      event_action: 'resolve',
      dedup_key: INCIDENT_ID,
    })
  })

  it('keeps the summary within 1024 characters and hashes an over-long dedup key stably', () => {
    const alert = incident('opened')
    alert.title = 'Critical anomaly: '.repeat(100)
    alert.incident.id = `${'x'.repeat(300)}|api_calls`
    const event = pagerDutyEvent(alert, KEY)
    if (event?.event_action !== 'trigger') throw new Error('expected a trigger')
    expect(event.payload.summary.length).toBe(PAGERDUTY_LIMITS.summary)
    expect(event.dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(event.dedup_key).toBe(dedupKey(alert.incident.id))
  })
})

describe('pagerDutyEvent: ops alerts and the digest', () => {
  const ops = { severity: 'warning' as const, createdAt: SLOT, link: null }

  it('triggers storms and job-health alerts keyed by the alert id', () => {
    const storm: StormAlert = {
      ...ops,
      severity: 'critical',
      kind: 'storm',
      id: '2026-11-25T12:00:00.000Z|storm',
      title: 'Alert storm: 73 incidents opened in one run (limit 50), possible system issue',
      storm: { runId: 'run-7f3a', slot: SLOT, opened: 73, limit: 50, sample: [] },
    }
    expect(pagerDutyEvent(storm, KEY)).toMatchObject({
      event_action: 'trigger',
      dedup_key: storm.id,
      payload: { summary: storm.title, severity: 'critical', class: 'alert_storm', group: 'ops' },
    })

    const job: JobHealthAlert = {
      ...ops,
      kind: 'job_health',
      id: '2026-11-25T12:00:01.000Z|job_failed|run-7f3a',
      title: 'Detection run failed for slot 2026-11-25T12:00:00.000Z',
      job: {
        problem: 'failed',
        runId: 'run-7f3a',
        slot: SLOT,
        durationMs: 4_200,
        limitMs: null,
        error: 'ECONNRESET',
      },
    }
    expect(pagerDutyEvent(job, KEY)).toMatchObject({
      dedup_key: 'meterflow-job-failed',
      payload: {
        summary: 'Detection run failed for slot 2026-11-25T12:00:00.000Z: ECONNRESET',
        severity: 'warning',
        class: 'job_failed',
        custom_details: { run_id: 'run-7f3a', error: 'ECONNRESET', duration_ms: 4_200 },
      },
    })
  })

  it('has no event for a digest', () => {
    const digest: DigestAlert = {
      ...ops,
      kind: 'digest',
      id: '2026-11-26T08:00:00.000Z|digest',
      title: 'MeterFlow daily digest',
      digest: { from: SLOT - 86_400_000, to: SLOT, opened: 0, resolved: 0, stillOpen: 0, incidents: [] },
    }
    expect(pagerDutyEvent(digest, KEY)).toBeNull()
  })
})
