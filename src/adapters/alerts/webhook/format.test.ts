import { describe, expect, it } from 'vitest'
import type { DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../../../domain/alert.js'
import { webhookPayload } from './format.js'

const SLOT = Date.UTC(2026, 10, 25, 12)
const OPENED = SLOT - 7_200_000
const INCIDENT_ID = 'acme-corp|api_calls|2026-11-25T10:00:00.000Z'

const incident: IncidentAlert = {
  kind: 'incident',
  id: `2026-11-25T12:00:00.000Z|escalated|${INCIDENT_ID}`,
  severity: 'critical',
  createdAt: SLOT,
  title: 'Escalated to critical: critical anomaly: acme-corp - api_calls',
  link: 'https://meterflow.example.com/incidents/acme',
  transition: 'escalated',
  incident: {
    id: INCIDENT_ID,
    customerId: 'acme-corp',
    metric: 'api_calls',
    status: 'open',
    severity: 'critical',
    direction: 'spike',
    openedAt: OPENED,
    resolvedAt: null,
    peakZScore: 7.4,
    openedBySignal: 'volume',
    firingSignals: ['volume'],
  },
  detection: {
    signal: 'volume',
    slot: SLOT,
    currentValue: 48_210,
    baselineMean: 10_020.4,
    baselineStddev: 3_890.25,
    zScore: null,
    windowStart: SLOT - 3_600_000,
    windowEnd: SLOT,
    windowKind: 'recent',
  },
}

describe('webhookPayload', () => {
  it('sends an incident with its transition, ISO times and snake_case data', () => {
    expect(webhookPayload(incident)).toEqual({
      id: incident.id,
      type: 'incident',
      transition: 'escalated',
      created_at: '2026-11-25T12:00:00.000Z',
      severity: 'critical',
      title: incident.title,
      link: 'https://meterflow.example.com/incidents/acme',
      data: {
        incident: {
          id: INCIDENT_ID,
          customer_id: 'acme-corp',
          metric: 'api_calls',
          status: 'open',
          severity: 'critical',
          direction: 'spike',
          opened_at: '2026-11-25T10:00:00.000Z',
          resolved_at: null,
          peak_z_score: 7.4,
          opened_by_signal: 'volume',
          firing_signals: ['volume'],
        },
        detection: {
          signal: 'volume',
          slot: '2026-11-25T12:00:00.000Z',
          current_value: 48_210,
          baseline_mean: 10_020.4,
          baseline_stddev: 3_890.25,
          z_score: null,
          window_start: '2026-11-25T11:00:00.000Z',
          window_end: '2026-11-25T12:00:00.000Z',
          window_kind: 'recent',
        },
      },
    })
    // An alert raised before windows were recorded (read back from the outbox) names none.
    const { windowKind: _, ...older } = incident.detection
    const sent = JSON.parse(JSON.stringify(webhookPayload({ ...incident, detection: older })))
    expect(sent.data.detection).not.toHaveProperty('window_kind')
  })

  it('has no transition for ops alerts and the digest, and snake_cases their fields', () => {
    const storm: StormAlert = {
      kind: 'storm',
      id: '2026-11-25T12:00:00.000Z|storm',
      severity: 'critical',
      createdAt: SLOT,
      title: 'Alert storm: 73 incidents opened in one run (limit 50), possible system issue',
      link: null,
      storm: {
        runId: 'run-7f3a',
        slot: SLOT,
        opened: 73,
        limit: 50,
        sample: [
          {
            incidentId: INCIDENT_ID,
            customerId: 'acme-corp',
            metric: 'api_calls',
            severity: 'critical',
            direction: 'drop',
          },
        ],
      },
    }
    const payload = webhookPayload(storm)
    expect(payload).not.toHaveProperty('transition')
    expect(payload).toMatchObject({ type: 'storm', link: null })
    expect(payload.data).toEqual({
      storm: {
        run_id: 'run-7f3a',
        slot: '2026-11-25T12:00:00.000Z',
        opened: 73,
        limit: 50,
        sample: [
          {
            incident_id: INCIDENT_ID,
            customer_id: 'acme-corp',
            metric: 'api_calls',
            severity: 'critical',
            direction: 'drop',
          },
        ],
      },
    })

    const job: JobHealthAlert = {
      ...storm,
      kind: 'job_health',
      id: '2026-11-25T12:00:01.000Z|job_slow|run-7f3a',
      severity: 'warning',
      title: 'Detection run took 725 s for slot 2026-11-25T12:00:00.000Z (limit 600 s)',
      job: {
        problem: 'slow',
        runId: 'run-7f3a',
        slot: SLOT,
        durationMs: 725_000,
        limitMs: 600_000,
        error: null,
      },
    }
    expect(webhookPayload(job).data).toEqual({
      job: {
        problem: 'slow',
        run_id: 'run-7f3a',
        slot: '2026-11-25T12:00:00.000Z',
        duration_ms: 725_000,
        limit_ms: 600_000,
        error: null,
      },
    })

    const digest: DigestAlert = {
      ...storm,
      kind: 'digest',
      id: '2026-11-26T08:00:00.000Z|digest',
      title: 'MeterFlow daily digest: 1 opened, 1 resolved, 0 open',
      digest: {
        from: SLOT - 86_400_000,
        to: SLOT,
        opened: 1,
        resolved: 1,
        stillOpen: 0,
        incidents: [{ ...incident.incident, status: 'resolved', resolvedAt: SLOT }],
      },
    }
    expect(webhookPayload(digest).data).toEqual({
      digest: {
        from: '2026-11-24T12:00:00.000Z',
        to: '2026-11-25T12:00:00.000Z',
        opened: 1,
        resolved: 1,
        still_open: 0,
        incidents: [
          {
            id: INCIDENT_ID,
            customer_id: 'acme-corp',
            metric: 'api_calls',
            status: 'resolved',
            severity: 'critical',
            direction: 'spike',
            opened_at: '2026-11-25T10:00:00.000Z',
            resolved_at: '2026-11-25T12:00:00.000Z',
            peak_z_score: 7.4,
            opened_by_signal: 'volume',
            firing_signals: ['volume'],
          },
        ],
      },
    })
  })
})
