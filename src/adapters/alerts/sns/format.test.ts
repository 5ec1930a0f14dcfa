import { describe, expect, it } from 'vitest'
import { digestAlert, incidentAlert, jobHealthAlert, stormAlert } from '../../../../test/alert-fixtures.js'
import {
  alertSubject,
  SNS_LIST_MAX,
  SNS_MESSAGE_BUDGET_BYTES,
  SNS_SUBJECT_MAX,
  snsMessage,
  snsMessageAttributes,
  snsPublishInput,
  snsSubject,
} from './format.js'

const base = incidentAlert()

describe('alertSubject', () => {
  it("keeps the seed's subject for a critical incident and words the other transitions", () => {
    expect(alertSubject(base)).toBe('[MeterFlow] Critical anomaly: acme-corp - api_calls')
    const warning = incidentAlert({ incident: { ...base.incident, severity: 'warning' } })
    expect(alertSubject(warning)).toBe('[MeterFlow] Warning anomaly: acme-corp - api_calls')
    expect(alertSubject(incidentAlert({ transition: 'escalated' }))).toBe(
      '[MeterFlow] Escalated to critical: acme-corp - api_calls',
    )
    expect(alertSubject(incidentAlert({ transition: 'resolved' }))).toBe(
      '[MeterFlow] Resolved: acme-corp - api_calls',
    )
  })

  it('gives storm, job-health and digest alerts their own subjects', () => {
    expect(alertSubject(stormAlert())).toBe(
      '[MeterFlow] Alert storm: 120 incidents opened in one run (limit 50)',
    )
    expect(alertSubject(jobHealthAlert())).toBe('[MeterFlow] Detection job failed (run run-1)')
    expect(alertSubject(jobHealthAlert({ problem: 'slow', durationMs: 754_000, limitMs: 600_000 }))).toBe(
      '[MeterFlow] Detection job slow: 12m 34s (limit 10m 0s)',
    )
    expect(alertSubject(digestAlert(3))).toBe(
      '[MeterFlow] Daily digest 2024-05-02: 3 opened, 1 resolved, 2 still open',
    )
  })
})

describe('snsSubject', () => {
  it('replaces line breaks and control characters, and non-ASCII with ?', () => {
    expect(snsSubject('a\r\nb\tc\u0007d')).toBe('a b c d')
    expect(snsSubject('Kunde Müller 😀 -\u2028x')).toBe('Kunde M?ller ? - x')
    expect(snsSubject('\n  \u200b')).toBe('MeterFlow alert')
  })

  it('cuts a long subject below 100 characters with an ellipsis', () => {
    const long = alertSubject(incidentAlert({ incident: { ...base.incident, customerId: 'c'.repeat(150) } }))
    const subject = snsSubject(long)
    expect(subject.length).toBe(SNS_SUBJECT_MAX)
    expect(subject.startsWith('[MeterFlow] Critical anomaly: ccc')).toBe(true)
    expect(subject.endsWith('...')).toBe(true)
    expect(snsSubject('x'.repeat(99))).toBe('x'.repeat(99))
  })

  it('only ever yields printable ASCII', () => {
    const subject = snsSubject(`${'é'.repeat(60)}\u0000${'😀'.repeat(60)}`)
    expect(subject).toMatch(/^[\x20-\x7e]{1,99}$/)
    expect(subject.length).toBeLessThan(100)
  })
})

describe('snsMessage', () => {
  it("carries the seed's fields plus severity, direction, transition, ids and the dashboard link", () => {
    expect(JSON.parse(snsMessage(base))).toEqual({
      kind: 'incident',
      customer_id: 'acme-corp',
      metric: 'api_calls',
      current_value: 125_000,
      baseline_mean: 10_000.5,
      z_score: 12.5,
      detected_at: '2024-05-01T10:00:00.000Z',
      severity: 'critical',
      direction: 'spike',
      transition: 'opened',
      incident_id: 'inc-1',
      alert_id: base.id,
      link: 'https://meterflow.example.com/incidents/inc-1',
      signal: 'volume',
      opened_by_signal: 'volume',
      firing_signals: ['volume'],
    })
  })

  it('names the volume window that fired when the alert recorded it', () => {
    const recent = incidentAlert({ detection: { ...base.detection, windowKind: 'recent' } })
    expect(JSON.parse(snsMessage(recent))).toMatchObject({
      signal: 'volume',
      z_score: 12.5,
      window_kind: 'recent',
    })
    expect(JSON.parse(snsMessage(base))).not.toHaveProperty('window_kind')
  })

  it('writes a null z-score and a null link as null', () => {
    const alert = incidentAlert({ link: null, detection: { ...base.detection, zScore: null } })
    const message = JSON.parse(snsMessage(alert))
    expect(message.z_score).toBeNull()
    expect(message.link).toBeNull()
  })

  it('lists storm samples, job errors and digest incidents', () => {
    const storm = JSON.parse(snsMessage(stormAlert(2)))
    expect(storm).toMatchObject({ kind: 'storm', run_id: 'run-1', opened: 120, limit: 50, sample_omitted: 0 })
    expect(storm.sample[1]).toEqual({
      incident_id: 'inc-1',
      customer_id: 'customer-1',
      metric: 'api_calls',
      severity: 'warning',
      direction: 'drop',
    })
    const job = JSON.parse(snsMessage(jobHealthAlert({ error: 'e'.repeat(10_000) })))
    expect(job).toMatchObject({ kind: 'job_health', problem: 'failed', duration_ms: 1_500, limit_ms: null })
    expect(job.error.length).toBeLessThan(4_100)
    expect(job.error).toContain('(6000 more chars)')
    const digest = JSON.parse(snsMessage(digestAlert(2)))
    expect(digest).toMatchObject({
      kind: 'digest',
      opened: 2,
      resolved: 1,
      still_open: 1,
      incidents_omitted: 0,
    })
    expect(digest.incidents[0]).toMatchObject({
      incident_id: 'inc-0',
      resolved_at: '2024-05-01T12:00:00.000Z',
    })
  })

  it('caps a list so the message stays under the 256 KB limit, and says how many it left out', () => {
    const many = digestAlert(5_000)
    const fat = {
      ...many,
      digest: {
        ...many.digest,
        incidents: many.digest.incidents.map((i) => ({ ...i, customerId: 'x'.repeat(2_000) })),
      },
    }
    const message = snsMessage(fat)
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MESSAGE_BUDGET_BYTES)
    const parsed = JSON.parse(message)
    expect(parsed.incidents.length).toBeGreaterThan(0)
    expect(parsed.incidents.length).toBeLessThan(SNS_LIST_MAX)
    expect(parsed.incidents.length + parsed.incidents_omitted).toBe(5_000)
  })
})

describe('snsMessageAttributes', () => {
  it('sets kind, severity, metric and transition for incident alerts', () => {
    expect(snsMessageAttributes(incidentAlert({ transition: 'resolved' }))).toEqual({
      kind: { DataType: 'String', StringValue: 'incident' },
      severity: { DataType: 'String', StringValue: 'critical' },
      metric: { DataType: 'String', StringValue: 'api_calls' },
      transition: { DataType: 'String', StringValue: 'resolved' },
    })
  })

  it('leaves out metric and transition when the alert has none', () => {
    expect(Object.keys(snsMessageAttributes(stormAlert())).sort()).toEqual(['kind', 'severity'])
  })
})

describe('snsPublishInput', () => {
  it('publishes to a standard topic without FIFO fields', () => {
    const input = snsPublishInput(base, 'arn:aws:sns:us-east-1:123456789012:alerts', 'd-1')
    expect(input.Subject).toBe('[MeterFlow] Critical anomaly: acme-corp - api_calls')
    expect(input.MessageGroupId).toBeUndefined()
    expect(input.MessageDeduplicationId).toBeUndefined()
  })

  it('gives a FIFO topic a group and a deduplication id stable per delivery', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:alerts.fifo'
    const first = snsPublishInput(base, arn, 'd-1')
    expect(first.MessageGroupId).toBe('meterflow-alerts')
    expect(first.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/)
    expect(snsPublishInput(base, arn, 'd-1').MessageDeduplicationId).toBe(first.MessageDeduplicationId)
    expect(snsPublishInput(base, arn, 'd-2').MessageDeduplicationId).not.toBe(first.MessageDeduplicationId)
  })
})
