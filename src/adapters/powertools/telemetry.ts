import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { DetectionRun } from '../../domain/run.js'
import type { Severity } from '../../domain/volume.js'
import type { ChannelDeliveries, HttpRequestRecord, Telemetry } from '../../ports.js'

/** The CloudWatch metric names: the Terraform module's alarms name them, so they never change. */
export const EMF_METRIC = {
  runsCompleted: 'RunsCompleted',
  runsFailed: 'RunsFailed',
  runDuration: 'RunDuration',
  seriesChecked: 'SeriesChecked',
  anomaliesFound: 'AnomaliesFound',
  anomaliesWarning: 'AnomaliesWarning',
  anomaliesCritical: 'AnomaliesCritical',
  incidentsOpened: 'IncidentsOpened',
  incidentsEscalated: 'IncidentsEscalated',
  incidentsResolved: 'IncidentsResolved',
  openIncidents: 'OpenIncidents',
  alertsSent: 'AlertsSent',
  alertsRetrying: 'AlertsRetrying',
  alertsFailed: 'AlertsFailed',
  shardsEvaluated: 'ShardsEvaluated',
} as const

export const DEFAULT_EMF_NAMESPACE = 'MeterFlow'
/** The `service` dimension every metric carries. */
export const EMF_SERVICE = 'meterflow'

const BY_SEVERITY: Record<Severity, string> = {
  warning: EMF_METRIC.anomaliesWarning,
  critical: EMF_METRIC.anomaliesCritical,
}

export interface PowertoolsTelemetryOptions {
  /** CloudWatch namespace (the entry passes POWERTOOLS_METRICS_NAMESPACE; default MeterFlow). */
  namespace?: string
  /** Told when emitting a metric failed (reporting itself never throws). */
  onError?: (err: unknown) => void
}

/**
 * Telemetry as CloudWatch Embedded Metric Format lines on stdout (Powertools Metrics): the Lambda's metrics, turned
 * into CloudWatch metrics by the Logs service, with no agent and no API call. Metrics are buffered per invocation
 * and written by `flush()`; those with a `channel` dimension are written at once (one EMF line each), since one
 * EMF line carries one dimension set.
 */
export class PowertoolsTelemetry implements Telemetry {
  readonly metrics: Metrics
  private readonly onError: (err: unknown) => void

  constructor(options: PowertoolsTelemetryOptions = {}) {
    this.metrics = new Metrics({
      namespace: options.namespace || DEFAULT_EMF_NAMESPACE,
      serviceName: EMF_SERVICE,
    })
    this.onError = options.onError ?? (() => {})
  }

  runFinished(run: DetectionRun, anomaliesBySeverity: Readonly<Record<Severity, number>>): void {
    this.safely(() => {
      const m = this.metrics
      // Both, every run: an alarm on "no RunsCompleted" or "RunsFailed > 0" then always has data points.
      m.addMetric(EMF_METRIC.runsCompleted, MetricUnit.Count, run.status === 'completed' ? 1 : 0)
      m.addMetric(EMF_METRIC.runsFailed, MetricUnit.Count, run.status === 'failed' ? 1 : 0)
      if (run.durationMs !== null)
        m.addMetric(EMF_METRIC.runDuration, MetricUnit.Milliseconds, run.durationMs)
      m.addMetric(EMF_METRIC.seriesChecked, MetricUnit.Count, run.checked)
      m.addMetric(EMF_METRIC.anomaliesFound, MetricUnit.Count, run.anomaliesFound)
      for (const [severity, name] of Object.entries(BY_SEVERITY) as [Severity, string][]) {
        m.addMetric(name, MetricUnit.Count, anomaliesBySeverity[severity])
      }
      m.addMetric(EMF_METRIC.incidentsOpened, MetricUnit.Count, run.incidentsOpened)
      m.addMetric(EMF_METRIC.incidentsEscalated, MetricUnit.Count, run.incidentsEscalated)
      m.addMetric(EMF_METRIC.incidentsResolved, MetricUnit.Count, run.incidentsResolved)
      // Searchable in Logs Insights, not a dimension (one value per run would make a metric per run).
      m.addMetadata('run_id', run.runId)
    })
  }

  openIncidents(count: number): void {
    this.safely(() => this.metrics.addMetric(EMF_METRIC.openIncidents, MetricUnit.Count, count))
  }

  deliveriesFinished(byChannel: Readonly<Record<string, ChannelDeliveries>>): void {
    for (const [channel, counts] of Object.entries(byChannel)) {
      this.safely(() => {
        const single = this.metrics.singleMetric()
        single.addDimension('channel', channel)
        // A single-metric instance writes its line on each addMetric: one line per metric, all with the channel.
        single.addMetric(EMF_METRIC.alertsSent, MetricUnit.Count, counts.delivered)
        single.addDimension('channel', channel)
        single.addMetric(EMF_METRIC.alertsRetrying, MetricUnit.Count, counts.retrying)
        single.addDimension('channel', channel)
        single.addMetric(EMF_METRIC.alertsFailed, MetricUnit.Count, counts.failed)
      })
    }
  }

  /** A worker finished evaluating shards of a sharded run (the worker calls this; it is not part of the port). */
  shardsEvaluated(count: number): void {
    this.safely(() => this.metrics.addMetric(EMF_METRIC.shardsEvaluated, MetricUnit.Count, count))
  }

  // The Lambda neither ingests nor serves HTTP: the server's Prometheus metrics cover those.
  eventsIngested(_events: { stored: number; duplicates: number; conflicts: number }, _bytes: number): void {}
  httpRequest(_request: HttpRequestRecord): void {}

  /** Writes the buffered metrics (end of every invocation, also after an error); never throws. */
  flush(): void {
    this.safely(() => {
      if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics()
      else this.metrics.clearMetadata()
    })
  }

  private safely(report: () => void): void {
    try {
      report()
    } catch (err) {
      try {
        this.onError(err)
      } catch {
        // Reporting never throws, not even through its error callback.
      }
    }
  }
}
