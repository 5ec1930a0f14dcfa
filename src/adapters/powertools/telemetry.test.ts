import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DetectionRun } from '../../domain/run.js'
import { EMF_METRIC, PowertoolsTelemetry } from './telemetry.js'

interface EmfLine {
  _aws: {
    Timestamp: number
    CloudWatchMetrics: {
      Namespace: string
      Dimensions: string[][]
      Metrics: { Name: string; Unit: string }[]
    }[]
  }
  [key: string]: unknown
}

/** What Powertools writes to stdout, one JSON object per line. */
let written: string[]
beforeEach(() => {
  written = []
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
})
afterEach(() => {
  vi.restoreAllMocks()
})

function emfLines(): EmfLine[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EmfLine)
}

/** A metric's unit, value and dimension set in the line that carries it. */
function metric(lines: EmfLine[], name: string, where: Record<string, string> = {}) {
  const found = lines.filter(
    (l) =>
      l._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name) &&
      Object.entries(where).every(([k, v]) => l[k] === v),
  )
  expect(found, `${name} ${JSON.stringify(where)}`).toHaveLength(1)
  const line = found[0] as EmfLine
  const directive = line._aws.CloudWatchMetrics[0]
  return {
    unit: directive?.Metrics.find((m) => m.Name === name)?.Unit,
    value: line[name],
    namespace: directive?.Namespace,
    dimensions: directive?.Dimensions[0],
    line,
  }
}

const run: DetectionRun = {
  runId: 'evt-1',
  slot: Date.UTC(2026, 10, 25, 12),
  status: 'completed',
  startedAt: Date.UTC(2026, 10, 25, 12, 0, 5),
  finishedAt: Date.UTC(2026, 10, 25, 12, 0, 7),
  durationMs: 2345,
  checked: 320,
  customers: 80,
  anomaliesFound: 7,
  anomaliesStored: 7,
  insufficientData: 3,
  incidentsOpened: 4,
  incidentsEscalated: 1,
  incidentsResolved: 2,
  trigger: 'lambda',
  error: null,
}

describe('PowertoolsTelemetry (CloudWatch EMF)', () => {
  it('writes nothing until flushed, then one line with every run metric, unit and the service dimension', () => {
    const telemetry = new PowertoolsTelemetry({ namespace: 'MeterFlowTest' })
    telemetry.runFinished(run, { warning: 5, critical: 2 })
    telemetry.openIncidents(9)
    expect(written).toEqual([])
    telemetry.flush()
    const lines = emfLines()
    expect(lines).toHaveLength(1)
    const expected: [string, string, number][] = [
      [EMF_METRIC.runsCompleted, 'Count', 1],
      [EMF_METRIC.runsFailed, 'Count', 0],
      [EMF_METRIC.runDuration, 'Milliseconds', 2345],
      [EMF_METRIC.seriesChecked, 'Count', 320],
      [EMF_METRIC.anomaliesFound, 'Count', 7],
      [EMF_METRIC.anomaliesWarning, 'Count', 5],
      [EMF_METRIC.anomaliesCritical, 'Count', 2],
      [EMF_METRIC.incidentsOpened, 'Count', 4],
      [EMF_METRIC.incidentsEscalated, 'Count', 1],
      [EMF_METRIC.incidentsResolved, 'Count', 2],
      [EMF_METRIC.openIncidents, 'Count', 9],
    ]
    for (const [name, unit, value] of expected) {
      expect(metric(lines, name)).toMatchObject({
        unit,
        value,
        namespace: 'MeterFlowTest',
        dimensions: ['service'],
      })
    }
    expect(lines[0]).toMatchObject({ service: 'meterflow', run_id: 'evt-1' })
    // The names the Terraform alarms use, spelled out once more so that a rename fails here.
    expect(Object.keys(lines[0] as object).filter((k) => /^[A-Z]/.test(k))).toEqual(
      expect.arrayContaining([
        'RunsCompleted',
        'RunsFailed',
        'RunDuration',
        'AnomaliesFound',
        'OpenIncidents',
      ]),
    )
    // Flushed means emptied: a second flush writes nothing.
    written = []
    telemetry.flush()
    expect(written).toEqual([])
  })

  it('counts a failed run as RunsFailed 1, RunsCompleted 0', () => {
    const telemetry = new PowertoolsTelemetry()
    telemetry.runFinished({ ...run, status: 'failed', error: 'out of time' }, { warning: 0, critical: 0 })
    telemetry.flush()
    const lines = emfLines()
    expect(metric(lines, EMF_METRIC.runsFailed)).toMatchObject({ value: 1, namespace: 'MeterFlow' })
    expect(metric(lines, EMF_METRIC.runsCompleted).value).toBe(0)
  })

  it('writes alert deliveries per channel with a channel dimension, one line per metric', () => {
    const telemetry = new PowertoolsTelemetry()
    telemetry.deliveriesFinished({
      sns: { delivered: 3, retrying: 1, failed: 0 },
      slack: { delivered: 0, retrying: 0, failed: 2 },
    })
    const lines = emfLines()
    expect(lines).toHaveLength(6)
    for (const [channel, sent, failed] of [
      ['sns', 3, 0],
      ['slack', 0, 2],
    ] as const) {
      for (const [name, value] of [
        [EMF_METRIC.alertsSent, sent],
        [EMF_METRIC.alertsFailed, failed],
      ] as const) {
        expect(metric(lines, name, { channel })).toMatchObject({
          unit: 'Count',
          value,
          dimensions: ['service', 'channel'],
        })
      }
    }
    expect(metric(lines, EMF_METRIC.alertsRetrying, { channel: 'sns' }).value).toBe(1)
  })

  it('accumulates repeated reports in one invocation and counts shards for the worker', () => {
    const telemetry = new PowertoolsTelemetry()
    telemetry.shardsEvaluated(1)
    telemetry.shardsEvaluated(1)
    telemetry.flush()
    expect(metric(emfLines(), EMF_METRIC.shardsEvaluated)).toMatchObject({ unit: 'Count', value: [1, 1] })
  })

  it('never throws, and tells onError instead', () => {
    const errors: unknown[] = []
    const telemetry = new PowertoolsTelemetry({ onError: (err) => errors.push(err) })
    // Powertools throws when a metric is added again with another unit.
    telemetry.metrics.addMetric(EMF_METRIC.openIncidents, 'Milliseconds', 1)
    expect(() => telemetry.openIncidents(3)).not.toThrow()
    expect(errors).toHaveLength(1)
    expect(String(errors[0])).toMatch(/already been added with unit/)
    const broken = new PowertoolsTelemetry({
      onError: () => {
        throw new Error('the error callback itself fails')
      },
    })
    broken.metrics.addMetric(EMF_METRIC.openIncidents, 'Milliseconds', 1)
    expect(() => broken.openIncidents(3)).not.toThrow()
    expect(() => telemetry.flush()).not.toThrow()
  })
})
