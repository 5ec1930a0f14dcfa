import { describe, expect, it } from 'vitest'
import type { DetectionRun } from '../../domain/run.js'
import { PrometheusTelemetry, UNMATCHED_ROUTE } from './telemetry.js'

const run = (over: Partial<DetectionRun> = {}): DetectionRun => ({
  runId: 'r1',
  slot: 0,
  status: 'completed',
  startedAt: 0,
  finishedAt: 2_500,
  durationMs: 2_500,
  checked: 40,
  customers: 10,
  anomaliesFound: 3,
  anomaliesStored: 3,
  insufficientData: 0,
  incidentsOpened: 1,
  incidentsEscalated: 0,
  incidentsResolved: 0,
  trigger: 'api',
  error: null,
  ...over,
})

async function values(t: PrometheusTelemetry, name: string) {
  const metric = (await t.registry.getMetricsAsJSON()).find((m) => m.name === name)
  if (!metric) throw new Error(`no metric ${name}`)
  return metric.values as unknown as {
    labels: Record<string, string | number>
    value: number
    metricName?: string
  }[]
}

describe('PrometheusTelemetry', () => {
  it('keeps each instance on its own registry: two never share or collide', async () => {
    const a = new PrometheusTelemetry()
    const b = new PrometheusTelemetry()
    a.runFinished(run(), { warning: 2, critical: 1 })
    expect(await values(a, 'meterflow_detection_runs_total')).toContainEqual({
      labels: { status: 'completed' },
      value: 1,
    })
    expect(await values(b, 'meterflow_detection_runs_total')).toContainEqual({
      labels: { status: 'completed' },
      value: 0,
    })
    expect(await values(a, 'meterflow_anomalies_found_total')).toEqual(
      expect.arrayContaining([
        { labels: { severity: 'warning' }, value: 2 },
        { labels: { severity: 'critical' }, value: 1 },
      ]),
    )
    const duration = await values(a, 'meterflow_detection_run_duration_seconds')
    expect(duration.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(2.5)
  })

  it('bounds HTTP labels: unknown methods, unmatched routes and status classes', async () => {
    const t = new PrometheusTelemetry({ defaultMetrics: false })
    t.httpRequest({ route: null, method: 'PROPFIND', statusCode: 404, durationMs: 3 })
    t.httpRequest({ route: '/v1/runs/:id', method: 'GET', statusCode: 200, durationMs: 5 })
    const counts = (await values(t, 'meterflow_http_request_duration_seconds')).filter((v) =>
      v.metricName?.endsWith('_count'),
    )
    expect(counts.map((v) => v.labels)).toEqual(
      expect.arrayContaining([
        { route: UNMATCHED_ROUTE, method: 'OTHER', status_class: '4xx' },
        { route: '/v1/runs/:id', method: 'GET', status_class: '2xx' },
      ]),
    )
  })

  it('adds delivery outcomes per channel and ingest counts', async () => {
    const t = new PrometheusTelemetry({ defaultMetrics: false })
    t.deliveriesFinished({ slack: { delivered: 2, retrying: 1, failed: 0 } })
    t.deliveriesFinished({ slack: { delivered: 1, retrying: 0, failed: 1 } })
    t.eventsIngested({ stored: 5, duplicates: 2, conflicts: 1 }, 1234)
    t.openIncidents(7)
    expect(await values(t, 'meterflow_alert_deliveries_total')).toEqual(
      expect.arrayContaining([
        { labels: { channel: 'slack', outcome: 'delivered' }, value: 3 },
        { labels: { channel: 'slack', outcome: 'retrying' }, value: 1 },
        { labels: { channel: 'slack', outcome: 'failed' }, value: 1 },
      ]),
    )
    expect(await values(t, 'meterflow_ingested_events_total')).toEqual(
      expect.arrayContaining([
        { labels: { outcome: 'stored' }, value: 5 },
        { labels: { outcome: 'duplicates' }, value: 2 },
        { labels: { outcome: 'conflicts' }, value: 1 },
      ]),
    )
    expect((await values(t, 'meterflow_ingested_bytes_total'))[0]?.value).toBe(1234)
    expect((await values(t, 'meterflow_open_incidents'))[0]?.value).toBe(7)
    expect(t.contentType).toMatch(/^text\/plain/)
    expect(await t.render()).toContain('meterflow_open_incidents 7')
  })
})
