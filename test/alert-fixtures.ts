import type { DigestAlert, IncidentAlert, JobHealthAlert, StormAlert } from '../src/domain/alert.js'

/** Alerts as the alert builder makes them, for channel tests; override what a test is about. */
export const SLOT = Date.UTC(2024, 4, 1, 10)

export function incidentAlert(overrides: Partial<IncidentAlert> = {}): IncidentAlert {
  return {
    kind: 'incident',
    id: '2024-05-01T10:00:00.000Z-inc-1-opened',
    severity: 'critical',
    createdAt: SLOT,
    title: 'Critical anomaly: acme-corp - api_calls',
    link: 'https://meterflow.example.com/incidents/inc-1',
    transition: 'opened',
    incident: {
      id: 'inc-1',
      customerId: 'acme-corp',
      metric: 'api_calls',
      status: 'open',
      severity: 'critical',
      direction: 'spike',
      openedAt: SLOT,
      resolvedAt: null,
      peakZScore: 12.5,
      openedBySignal: 'volume',
      firingSignals: ['volume'],
    },
    detection: {
      signal: 'volume',
      slot: SLOT,
      currentValue: 125_000,
      baselineMean: 10_000.5,
      baselineStddev: 9_200,
      zScore: 12.5,
      windowStart: SLOT - 86_400_000,
      windowEnd: SLOT,
    },
    ...overrides,
  }
}

export function stormAlert(sampleSize = 3): StormAlert {
  return {
    kind: 'storm',
    id: '2024-05-01T10:00:00.000Z-storm-run-1',
    severity: 'critical',
    createdAt: SLOT,
    title: 'Alert storm: 120 incidents opened in run run-1',
    link: null,
    storm: {
      runId: 'run-1',
      slot: SLOT,
      opened: 120,
      limit: 50,
      sample: Array.from({ length: sampleSize }, (_, n) => ({
        incidentId: `inc-${n}`,
        customerId: `customer-${n}`,
        metric: 'api_calls',
        severity: 'warning' as const,
        direction: 'drop' as const,
      })),
    },
  }
}

export function jobHealthAlert(overrides: Partial<JobHealthAlert['job']> = {}): JobHealthAlert {
  return {
    kind: 'job_health',
    id: '2024-05-01T10:00:00.000Z-job-run-1',
    severity: 'critical',
    createdAt: SLOT,
    title: 'Detection job failed: run run-1',
    link: null,
    job: {
      problem: 'failed',
      runId: 'run-1',
      slot: SLOT,
      durationMs: 1_500,
      limitMs: null,
      error: 'StoreError: ClickHouse unreachable',
      ...overrides,
    },
  }
}

export function digestAlert(incidentCount = 2): DigestAlert {
  return {
    kind: 'digest',
    id: '2024-05-02T08:00:00.000Z-digest',
    severity: 'warning',
    createdAt: Date.UTC(2024, 4, 2, 8),
    title: 'Daily digest',
    link: 'https://meterflow.example.com/incidents',
    digest: {
      from: Date.UTC(2024, 4, 1, 8),
      to: Date.UTC(2024, 4, 2, 8),
      opened: incidentCount,
      resolved: 1,
      stillOpen: incidentCount - 1,
      incidents: Array.from({ length: incidentCount }, (_, n) => ({
        id: `inc-${n}`,
        customerId: n === 0 ? '<b>evil & co</b>' : `customer-${n}`,
        metric: 'storage_bytes',
        status: n === 0 ? ('resolved' as const) : ('open' as const),
        severity: 'critical' as const,
        direction: 'spike' as const,
        openedAt: Date.UTC(2024, 4, 1, 9) + n * 60_000,
        resolvedAt: n === 0 ? Date.UTC(2024, 4, 1, 12) : null,
        peakZScore: 7.25,
        openedBySignal: 'volume',
        firingSignals: ['volume'],
      })),
    },
  }
}
