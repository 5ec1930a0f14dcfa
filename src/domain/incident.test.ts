import { describe, expect, it } from 'vitest'
import {
  applySignals,
  applyVerdict,
  DEFAULT_INCIDENT_OPTIONS,
  feedbackExclusion,
  type Incident,
  legacySignals,
} from './incident.js'
import { volumeSignalVerdict } from './signals/volume-signal.js'
import { DEFAULT_VOLUME_OPTIONS, verdictFromStats } from './volume.js'

const HOUR = 3_600_000
const S0 = Date.UTC(2026, 10, 20, 10)
const pair = { customerId: 'acme', metric: 'api_calls' }
const stats = { mean: 1000, stddev: 100, samples: 30 }
const verdict = (current: number) => verdictFromStats(current, stats, DEFAULT_VOLUME_OPTIONS)
const warning = verdict(1400) // z = 4
const critical = verdict(1800) // z = 8
const normal = verdict(1050)
const noData = verdictFromStats(5000, { mean: 0, stddev: 0, samples: 2 }, DEFAULT_VOLUME_OPTIONS)

/** Runs verdicts hour by hour from S0 and returns the transitions and the final incident. */
function replay(verdicts: ReturnType<typeof verdict>[], options = DEFAULT_INCIDENT_OPTIONS) {
  let incident: Incident | null = null
  const transitions: (string | null)[] = []
  verdicts.forEach((v, i) => {
    const step = applyVerdict(pair, incident, v, S0 + i * HOUR, options)
    transitions.push(step.transition)
    incident = step.incident
  })
  return { transitions, incident: incident as Incident | null }
}

describe('applyVerdict', () => {
  it('opens nothing for normal data', () => {
    expect(replay([normal, normal]).incident).toBeNull()
  })

  it('opens one incident for an anomaly that persists across runs', () => {
    const { transitions, incident } = replay([warning, warning, warning])
    expect(transitions).toEqual(['opened', 'updated', 'updated'])
    expect(incident).toMatchObject({
      id: `acme|api_calls|${new Date(S0).toISOString()}`,
      status: 'open',
      severity: 'warning',
      detections: 3,
      openedAt: S0,
      lastSeenAt: S0 + 2 * HOUR,
    })
  })

  it('escalates warning to critical once, keeps the peak z, never de-escalates', () => {
    const { transitions, incident } = replay([warning, critical, warning, critical])
    expect(transitions).toEqual(['opened', 'escalated', 'updated', 'updated'])
    expect(incident?.severity).toBe('critical')
    expect(incident?.peakZScore).toBeCloseTo(8)
    expect(incident?.lastZScore).toBeCloseTo(8)
  })

  it('resolves after two clean runs in a row, not after one', () => {
    const { transitions, incident } = replay([critical, normal, critical, normal, normal])
    expect(transitions).toEqual(['opened', null, 'updated', null, 'resolved'])
    expect(incident).toMatchObject({ status: 'resolved', resolvedAt: S0 + 4 * HOUR, cleanRuns: 2 })
  })

  it('honours a custom number of clean runs', () => {
    expect(replay([critical, normal], { resolveAfterCleanRuns: 1 }).transitions).toEqual([
      'opened',
      'resolved',
    ])
    expect(replay([critical, normal, normal], { resolveAfterCleanRuns: 3 }).transitions).toEqual([
      'opened',
      null,
      null,
    ])
  })

  it('treats insufficient data as neither anomaly nor recovery', () => {
    const { transitions, incident } = replay([critical, noData, noData, normal])
    expect(transitions).toEqual(['opened', null, null, null])
    expect(incident).toMatchObject({ status: 'open', cleanRuns: 1 })
  })

  it('ignores a replayed or older slot', () => {
    const opened = replay([critical, critical]).incident
    const again = applyVerdict(pair, opened, normal, S0 + HOUR, DEFAULT_INCIDENT_OPTIONS)
    expect(again).toEqual({ incident: opened, transition: null })
    const older = applyVerdict(pair, opened, critical, S0, DEFAULT_INCIDENT_OPTIONS)
    expect(older.transition).toBeNull()
    expect(older.incident).toBe(opened)
  })

  it('does not open an incident from insufficient data', () => {
    expect(applyVerdict(pair, null, noData, S0, DEFAULT_INCIDENT_OPTIONS)).toEqual({
      incident: null,
      transition: null,
    })
    expect(replay([noData]).incident).toBeNull()
  })
})

describe('feedbackExclusion', () => {
  const base = {
    id: 'c|m|x',
    customerId: 'c',
    metric: 'm',
    severity: 'critical' as const,
    direction: 'spike' as const,
    openedAt: 100 * HOUR,
    lastSeenAt: 110 * HOUR,
    peakZScore: 9,
    openedBySignal: 'volume' as const,
    firingSignals: ['volume' as const],
    lastZScore: 9,
    detections: 11,
    cleanRuns: 0,
    lastEvaluatedSlot: 110 * HOUR,
    acknowledgedAt: null,
    acknowledgedBy: null,
  }
  const feedback = { label: 'planned' as const, at: 105 * HOUR, by: null, note: null }
  it('covers the first window to the resolution of a resolved incident', () => {
    const range = feedbackExclusion({ ...base, status: 'resolved', resolvedAt: 120 * HOUR, feedback })
    expect(range).toEqual({ start: 76 * HOUR, end: 120 * HOUR })
  })
  it("ends an open incident's period when it was labelled, so a lasting change is learned afterwards", () => {
    expect(feedbackExclusion({ ...base, status: 'open', resolvedAt: null, feedback })).toEqual({
      start: 76 * HOUR,
      end: 105 * HOUR,
    })
  })
})

describe('signals on incidents', () => {
  it('records the opening signal, the firing ones, and clears firing on a clean run but not on a run without data', () => {
    const { incident: opened } = applyVerdict(pair, null, warning, S0, DEFAULT_INCIDENT_OPTIONS)
    expect(opened).toMatchObject({ openedBySignal: 'volume', firingSignals: ['volume'] })
    const still = applyVerdict(pair, opened, noData, S0 + HOUR, DEFAULT_INCIDENT_OPTIONS).incident
    expect(still?.firingSignals).toEqual(['volume'])
    const clean = applyVerdict(pair, still, normal, S0 + 2 * HOUR, DEFAULT_INCIDENT_OPTIONS).incident
    expect(clean).toMatchObject({ status: 'open', cleanRuns: 1, firingSignals: [], openedBySignal: 'volume' })
    const back = applyVerdict(pair, clean, critical, S0 + 3 * HOUR, DEFAULT_INCIDENT_OPTIONS)
    expect(back).toMatchObject({
      transition: 'escalated',
      incident: { firingSignals: ['volume'], cleanRuns: 0 },
    })
  })

  it("applies all of a run's verdicts of a series as one step (a slot moves an incident once)", () => {
    const volume = volumeSignalVerdict
    const step = applySignals(pair, null, [volume(warning), volume(critical)], S0, DEFAULT_INCIDENT_OPTIONS)
    // The highest severity among the firing verdicts; the first firing one opened it.
    expect(step).toMatchObject({
      transition: 'opened',
      incident: { severity: 'critical', openedBySignal: 'volume' },
    })
    expect(
      applySignals(pair, step.incident, [volume(normal)], S0, DEFAULT_INCIDENT_OPTIONS).transition,
    ).toBeNull()
    expect(applySignals(pair, null, [], S0, DEFAULT_INCIDENT_OPTIONS).incident).toBeNull()
  })

  it('reads an incident stored before signals as opened by volume, firing unless its latest run was clean', () => {
    expect(legacySignals({ status: 'open', cleanRuns: 0 })).toEqual({
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    })
    expect(legacySignals({ status: 'open', cleanRuns: 1 }).firingSignals).toEqual([])
    expect(legacySignals({ status: 'resolved', cleanRuns: 2 }).firingSignals).toEqual([])
  })
})
