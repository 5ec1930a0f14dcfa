import { describe, expect, it } from 'vitest'
import type { Alert, Mute } from './alert.js'
import {
  confirmsTransition,
  digestAlert,
  incidentAlert,
  incidentTitle,
  jobHealthAlert,
  matchingMute,
  nextRetryDelay,
  stormAlert,
  withLegacySignals,
} from './alert-factory.js'
import type { Incident } from './incident.js'
import type { DetectionRun } from './run.js'

const HOUR = 3_600_000
const SLOT = Date.UTC(2026, 10, 25, 10)

function incident(fields: Partial<Incident> = {}): Incident {
  return {
    id: `acme|api_calls|${new Date(SLOT).toISOString()}`,
    customerId: 'acme',
    metric: 'api_calls',
    status: 'open',
    severity: 'critical',
    direction: 'spike',
    openedAt: SLOT,
    lastSeenAt: SLOT,
    resolvedAt: null,
    peakZScore: 8.5,
    openedBySignal: 'volume',
    firingSignals: ['volume'],
    lastZScore: 8.5,
    detections: 1,
    cleanRuns: 0,
    lastEvaluatedSlot: SLOT,
    acknowledgedAt: null,
    acknowledgedBy: null,
    feedback: null,
    ...fields,
  }
}

const detection = (slot: number) => ({
  signal: 'volume' as const,
  slot,
  currentValue: 5000,
  baselineMean: 1000,
  baselineStddev: 470.6,
  zScore: 8.5,
  windowStart: slot - 24 * HOUR,
  windowEnd: slot,
})

describe('incident alerts', () => {
  it("carry the signal of their detection and the incident's signals; one stored before signals reads as volume", () => {
    const alert = incidentAlert(incident({ cleanRuns: 0 }), 'opened', detection(SLOT), null)
    expect(alert.detection.signal).toBe('volume')
    expect(alert.incident).toMatchObject({ openedBySignal: 'volume', firingSignals: ['volume'] })
    const { signal: _signal, ...oldDetection } = alert.detection
    const { openedBySignal: _by, firingSignals: _firing, ...oldIncident } = alert.incident
    const stored = { ...alert, detection: oldDetection, incident: oldIncident } as unknown as Alert
    expect(withLegacySignals(stored)).toStrictEqual(alert)
    const resolved = { ...stored, incident: { ...oldIncident, status: 'resolved' } } as unknown as Alert
    expect(withLegacySignals(resolved)).toMatchObject({ incident: { firingSignals: [] } })
    expect(withLegacySignals(alert)).toStrictEqual(alert)
  })

  it("use the seed's subject wording and say what changed", () => {
    expect(incidentTitle(incident(), 'opened')).toBe('Critical anomaly: acme - api_calls')
    expect(incidentTitle(incident({ severity: 'warning' }), 'opened')).toBe(
      'Warning anomaly: acme - api_calls',
    )
    expect(incidentTitle(incident(), 'escalated')).toBe('Escalated to critical: acme - api_calls')
    expect(incidentTitle(incident({ status: 'resolved' }), 'resolved')).toBe('Resolved: acme - api_calls')
  })

  it('get an id from slot, transition and incident, so a replayed run raises the same alert', () => {
    const a = incidentAlert(incident(), 'opened', detection(SLOT), null)
    const b = incidentAlert(incident({ detections: 5 }), 'opened', detection(SLOT), 'http://x')
    expect(a.id).toBe(b.id)
    expect(a.id.startsWith('2026-11-25T10:00:00.000Z|opened|')).toBe(true)
    expect(incidentAlert(incident(), 'resolved', detection(SLOT + HOUR), null).id).not.toBe(a.id)
    // One escalation per incident, whichever run computes it.
    const e1 = incidentAlert(incident(), 'escalated', detection(SLOT + HOUR), null)
    const e2 = incidentAlert(incident(), 'escalated', detection(SLOT + 2 * HOUR), null)
    expect(e1.id).toBe(e2.id)
  })
})

describe('confirmsTransition', () => {
  const opened = incidentAlert(incident(), 'opened', detection(SLOT), null)
  it('confirms an opening once the incident exists', () => {
    expect(confirmsTransition(incident(), opened)).toBe(true)
    expect(confirmsTransition(null, opened)).toBe(false)
    expect(confirmsTransition(incident({ id: 'other' }), opened)).toBe(false)
  })
  it('confirms an escalation when the stored incident is critical at or after the slot', () => {
    const escalated = incidentAlert(incident(), 'escalated', detection(SLOT + HOUR), null)
    expect(confirmsTransition(incident({ lastEvaluatedSlot: SLOT + HOUR }), escalated)).toBe(true)
    expect(confirmsTransition(incident({ lastEvaluatedSlot: SLOT }), escalated)).toBe(false)
    expect(
      confirmsTransition(incident({ severity: 'warning', lastEvaluatedSlot: SLOT + HOUR }), escalated),
    ).toBe(false)
  })
  it('confirms a resolution only for the slot that resolved it', () => {
    const resolved = incidentAlert(
      incident({ status: 'resolved' }),
      'resolved',
      detection(SLOT + 2 * HOUR),
      null,
    )
    expect(confirmsTransition(incident({ status: 'resolved', resolvedAt: SLOT + 2 * HOUR }), resolved)).toBe(
      true,
    )
    expect(confirmsTransition(incident({ status: 'resolved', resolvedAt: SLOT + 3 * HOUR }), resolved)).toBe(
      false,
    )
    expect(confirmsTransition(incident(), resolved)).toBe(false)
  })
})

describe('matchingMute', () => {
  const alert = incidentAlert(incident(), 'opened', detection(SLOT), null)
  const mute = (fields: Partial<Mute>): Mute => ({
    id: 'm',
    customerId: null,
    metric: null,
    until: SLOT + HOUR,
    reason: null,
    createdAt: SLOT - HOUR,
    ...fields,
  })
  it('matches by customer, by metric, by both; null matches anything', () => {
    expect(matchingMute(alert, [mute({ customerId: 'acme' })], SLOT)?.id).toBe('m')
    expect(matchingMute(alert, [mute({ metric: 'api_calls' })], SLOT)?.id).toBe('m')
    expect(matchingMute(alert, [mute({ customerId: 'acme', metric: 'storage_gb' })], SLOT)).toBeNull()
    expect(matchingMute(alert, [mute({ customerId: 'globex' })], SLOT)).toBeNull()
  })
  it('ignores an expired mute and never mutes ops alerts', () => {
    expect(matchingMute(alert, [mute({ customerId: 'acme', until: SLOT })], SLOT)).toBeNull()
    const storm = stormAlert({ runId: 'r', slot: SLOT }, [incident()], 1, null)
    expect(matchingMute(storm, [mute({})], SLOT)).toBeNull()
  })
})

describe('nextRetryDelay', () => {
  const policy = { maxAttempts: 5, baseMs: 1000, maxMs: 5000 }
  it('doubles from the base, caps at the max, and stops after the last attempt', () => {
    expect([1, 2, 3, 4].map((a) => nextRetryDelay(a, policy))).toEqual([1000, 2000, 4000, 5000])
    expect(nextRetryDelay(5, policy)).toBeNull()
  })
  it("takes the receiver's Retry-After when it is longer, up to the longest backoff", () => {
    expect(nextRetryDelay(1, policy, 3000)).toBe(3000)
    expect(nextRetryDelay(3, policy, 10)).toBe(4000)
    expect(nextRetryDelay(1, policy, 86_400_000)).toBe(5000)
  })
  it('does not overflow for large attempt counts', () => {
    expect(nextRetryDelay(90, { maxAttempts: 100, baseMs: 1000, maxMs: 3_600_000 })).toBe(3_600_000)
  })
})

describe('ops alerts', () => {
  const run = (fields: Partial<DetectionRun>): DetectionRun => ({
    runId: 'run-1',
    slot: SLOT,
    status: 'completed',
    startedAt: SLOT + 1000,
    finishedAt: SLOT + 61_000,
    durationMs: 60_000,
    checked: 10,
    customers: 5,
    anomaliesFound: 0,
    anomaliesStored: 0,
    insufficientData: 0,
    incidentsOpened: 0,
    incidentsEscalated: 0,
    incidentsResolved: 0,
    trigger: 'schedule',
    error: null,
    ...fields,
  })
  it('job health: nothing for a healthy run, critical for a failure, warning for a slow run', () => {
    expect(jobHealthAlert(run({}), 600_000, null)).toBeNull()
    expect(jobHealthAlert(run({ status: 'running', durationMs: null }), 1, null)).toBeNull()
    const failed = jobHealthAlert(run({ status: 'failed', error: 'ClickHouse down' }), 600_000, null)
    expect(failed?.severity).toBe('critical')
    expect(failed?.job).toMatchObject({ problem: 'failed', error: 'ClickHouse down', limitMs: null })
    const slow = jobHealthAlert(run({ durationMs: 700_000 }), 600_000, null)
    expect(slow?.severity).toBe('warning')
    expect(slow?.job).toMatchObject({ problem: 'slow', durationMs: 700_000, limitMs: 600_000 })
  })
  it('storm summary counts every opened incident and samples the first 20', () => {
    const opened = Array.from({ length: 200 }, (_, i) =>
      incident({ id: `c${i}|api_calls|x`, customerId: `c${i}` }),
    )
    const storm = stormAlert({ runId: 'r', slot: SLOT }, opened, 50, null)
    expect(storm.storm.opened).toBe(200)
    expect(storm.storm.sample).toHaveLength(20)
    expect(storm.title).toContain('200 incidents')
  })
  it('digest counts what opened and resolved in the period and what is still open', () => {
    const to = SLOT
    const from = to - 24 * HOUR
    const incidents = [
      incident({ id: 'new-open', openedAt: to - HOUR }),
      incident({
        id: 'new-resolved',
        openedAt: to - 5 * HOUR,
        status: 'resolved',
        resolvedAt: to - 2 * HOUR,
      }),
      incident({ id: 'old-open', openedAt: from - 48 * HOUR, severity: 'warning' }),
      incident({
        id: 'old-resolved-in',
        openedAt: from - 5 * HOUR,
        status: 'resolved',
        resolvedAt: from + HOUR,
      }),
      incident({
        id: 'old-resolved-before',
        openedAt: from - 9 * HOUR,
        status: 'resolved',
        resolvedAt: from - HOUR,
      }),
      incident({ id: 'future', openedAt: to, status: 'resolved', resolvedAt: to + HOUR }),
    ]
    const d = digestAlert(from, to, incidents, null).digest
    expect([d.opened, d.resolved, d.stillOpen]).toEqual([2, 2, 2])
    expect(d.incidents.map((i) => i.id)).toEqual(['new-open', 'new-resolved', 'old-open'])
  })
})
