import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { DetectionRun } from '../../domain/run.js'
import type { Severity } from '../../domain/volume.js'
import type { ChannelDeliveries, HttpRequestRecord, MetricsExposition, Telemetry } from '../../ports.js'

const SEVERITIES: readonly Severity[] = ['warning', 'critical']
const RUN_STATUSES: readonly DetectionRun['status'][] = ['completed', 'failed']
const DELIVERY_OUTCOMES: readonly (keyof ChannelDeliveries)[] = ['delivered', 'retrying', 'failed']
const INGEST_OUTCOMES = ['stored', 'duplicates', 'conflicts'] as const
// Any other method (the HTTP parser accepts a few dozen) is one label value, so labels stay few.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
/** Label of requests no route matched (404s, scanners): their URLs are unbounded. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * Prometheus metrics on a registry of their own: several MeterFlow instances in one process (tests, benchmarks)
 * never share or collide on prom-client's global registry.
 */
export class PrometheusTelemetry implements Telemetry, MetricsExposition {
  readonly registry = new Registry()
  private readonly runs: Counter<'status'>
  private readonly runDuration: Histogram
  private readonly seriesChecked: Counter
  private readonly anomalies: Counter<'severity'>
  private readonly incidentsOpen: Gauge
  private readonly deliveries: Counter<'channel' | 'outcome'>
  private readonly ingestedEvents: Counter<'outcome'>
  private readonly ingestedBytes: Counter
  private readonly httpDuration: Histogram<'route' | 'method' | 'status_class'>

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry })
    this.runs = new Counter({
      name: 'meterflow_detection_runs_total',
      help: 'Detection runs finished, by status',
      labelNames: ['status'],
      registers,
    })
    this.runDuration = new Histogram({
      name: 'meterflow_detection_run_duration_seconds',
      help: 'Duration of detection runs',
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers,
    })
    this.seriesChecked = new Counter({
      name: 'meterflow_series_checked_total',
      help: 'Customer x metric series evaluated by detection runs',
      registers,
    })
    this.anomalies = new Counter({
      name: 'meterflow_anomalies_found_total',
      help: 'Anomalies found by detection runs, by severity',
      labelNames: ['severity'],
      registers,
    })
    this.incidentsOpen = new Gauge({
      name: 'meterflow_open_incidents',
      help: 'Incidents open after the latest detection run',
      registers,
    })
    this.deliveries = new Counter({
      name: 'meterflow_alert_deliveries_total',
      help: 'Alert delivery attempts, by channel and outcome (delivered, retrying, failed)',
      labelNames: ['channel', 'outcome'],
      registers,
    })
    this.ingestedEvents = new Counter({
      name: 'meterflow_ingested_events_total',
      help: 'Events received in accepted batches, by outcome (stored, duplicates, conflicts)',
      labelNames: ['outcome'],
      registers,
    })
    this.ingestedBytes = new Counter({
      name: 'meterflow_ingested_bytes_total',
      help: 'Request body bytes of accepted event batches',
      registers,
    })
    this.httpDuration = new Histogram({
      name: 'meterflow_http_request_duration_seconds',
      help: 'HTTP request latency, by route pattern, method and status class',
      labelNames: ['route', 'method', 'status_class'],
      registers,
    })
    // Known label values start at 0, so a rate() over them works from the first scrape.
    for (const status of RUN_STATUSES) this.runs.labels(status).inc(0)
    for (const severity of SEVERITIES) this.anomalies.labels(severity).inc(0)
    for (const outcome of INGEST_OUTCOMES) this.ingestedEvents.labels(outcome).inc(0)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  runFinished(run: DetectionRun, anomaliesBySeverity: Readonly<Record<Severity, number>>): void {
    this.runs.labels(run.status).inc()
    if (run.durationMs !== null) this.runDuration.observe(run.durationMs / 1000)
    this.seriesChecked.inc(run.checked)
    for (const severity of SEVERITIES) this.anomalies.labels(severity).inc(anomaliesBySeverity[severity])
  }

  openIncidents(count: number): void {
    this.incidentsOpen.set(count)
  }

  deliveriesFinished(byChannel: Readonly<Record<string, ChannelDeliveries>>): void {
    for (const [channel, counts] of Object.entries(byChannel)) {
      for (const outcome of DELIVERY_OUTCOMES) this.deliveries.labels(channel, outcome).inc(counts[outcome])
    }
  }

  eventsIngested(events: { stored: number; duplicates: number; conflicts: number }, bytes: number): void {
    for (const outcome of INGEST_OUTCOMES) this.ingestedEvents.labels(outcome).inc(events[outcome])
    this.ingestedBytes.inc(bytes)
  }

  httpRequest(request: HttpRequestRecord): void {
    this.httpDuration
      .labels(
        request.route ?? UNMATCHED_ROUTE,
        METHODS.has(request.method) ? request.method : 'OTHER',
        `${Math.floor(request.statusCode / 100)}xx`,
      )
      .observe(request.durationMs / 1000)
  }
}
