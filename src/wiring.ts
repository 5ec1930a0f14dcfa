import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { alertChannels, type ChannelContext } from './adapters/alerts/registry.js'
import { createClickHouseClient } from './adapters/clickhouse/client.js'
import { ClickHouseMetricStore } from './adapters/clickhouse/metric-store.js'
import { migrate } from './adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from './adapters/clickhouse/usage-store.js'
import { DynamoDbAnomalyStore } from './adapters/dynamodb/anomaly-store.js'
import { PrometheusTelemetry } from './adapters/prometheus/telemetry.js'
import { SqliteAnomalyStore } from './adapters/sqlite/anomaly-store.js'
import type { RoutedChannel } from './app/alerting/raise.js'
import { AlertService } from './app/alerting/service.js'
import { ApiKeys } from './app/api-keys.js'
import { type CheckRequest, type CheckResult, checkAnomaly } from './app/check-anomaly.js'
import { CustomerRegistry } from './app/customers.js'
import { DetectionJob } from './app/detection-job.js'
import { type IngestOptions, type IngestResult, ingestEvents } from './app/ingest.js'
import { MetricCatalog } from './app/metric-catalog.js'
import { runSlot, type SlotRun } from './app/run-slot.js'
import { type Config, ConfigError } from './config.js'
import type { DetectionRun } from './domain/run.js'
import {
  type AnomalyStore,
  type Clock,
  type MetricsExposition,
  noTelemetry,
  systemClock,
  type Telemetry,
  type UsageStore,
} from './ports.js'

/** The running application: the use cases bound to the adapters the config selects. */
export interface MeterFlow {
  config: Config
  clock: Clock
  usage: UsageStore
  metrics: MetricCatalog
  anomalies: AnomalyStore
  customers: CustomerRegistry
  job: DetectionJob
  alerts: AlertService
  keys: ApiKeys
  /** Where the use cases and the HTTP layer report what happened (nothing when metrics are off). */
  telemetry: Telemetry
  /** The metrics for `GET /metrics`; null when metrics are off. */
  exposition: MetricsExposition | null
  ingest(raw: unknown, options?: IngestOptions): Promise<IngestResult>
  /** Detection for a slot, then alert delivery (see app/run-slot.ts). */
  runSlot(slot: number, trigger: DetectionRun['trigger'], whenBusy: 'wait' | 'refuse'): Promise<SlotRun>
  check(request: CheckRequest): Promise<CheckResult>
  close(): Promise<void>
}

export interface OpenOptions {
  clock?: Clock
  /** An already open client (benchmarks share one engine between databases); closed with MeterFlow. */
  clickhouse?: ClickHouseClient
  /** Where the console channel writes (default: stdout). */
  write?: (line: string) => void
  /** Collect metrics when the config says so (default); one-shot CLI commands pass false. */
  metrics?: boolean
}

/** The configured channels with their routes (a channel's default route, overridden field by field by config). */
export function configuredChannels(config: Config, context: ChannelContext): RoutedChannel[] {
  const unknown = Object.keys(config.alerts.routes).filter((name) => !(name in alertChannels))
  if (unknown.length > 0) {
    throw new ConfigError('invalid configuration', [
      `alerts.routes: unknown channel ${unknown.join(', ')} (known: ${Object.keys(alertChannels).join(', ')})`,
    ])
  }
  const routed: RoutedChannel[] = []
  for (const [name, registration] of Object.entries(alertChannels)) {
    const channel = registration.create(config, context)
    if (!channel) continue
    const override = config.alerts.routes[name] ?? {}
    routed.push({
      channel,
      route: {
        severities: override.severities ?? registration.defaultRoute.severities,
        transitions: override.transitions ?? registration.defaultRoute.transitions,
        ops: override.ops ?? registration.defaultRoute.ops,
        digest: override.digest ?? registration.defaultRoute.digest,
      },
    })
  }
  return routed
}

/** Opens the configured anomaly store alone (the CLI's `keys` commands need no usage store). */
export function openAnomalyStore(config: Config, clock: Clock = systemClock): Promise<AnomalyStore> {
  return anomalyStores[config.anomalyStore.kind](config, clock)
}

/** Anomaly store adapters by config kind: a new store is one folder plus one line here. */
const anomalyStores: Record<
  Config['anomalyStore']['kind'],
  (config: Config, clock: Clock) => Promise<AnomalyStore>
> = {
  sqlite: async (config, clock) =>
    SqliteAnomalyStore.open(
      config.anomalyStore.sqlitePath ?? join(config.dataDir, 'anomalies.sqlite'),
      clock,
    ),
  dynamodb: async (config, clock) =>
    DynamoDbAnomalyStore.open({ ...config.anomalyStore.dynamodb, clock, env: config.awsCredentialEnv }),
}

/** Composition root: the one place that picks adapters from config. */
export async function openMeterFlow(config: Config, options: OpenOptions = {}): Promise<MeterFlow> {
  const clock = options.clock ?? systemClock
  // Before any store opens: a bad channel config fails fast and leaves nothing to close.
  const channels = configuredChannels(config, {
    clock,
    timeoutMs: config.alerts.timeoutMs,
    write: options.write ?? ((line) => process.stdout.write(`${line}\n`)),
  })
  // A registry per instance: tests and benchmarks open several in one process.
  const prometheus = config.metrics === 'on' && (options.metrics ?? true) ? new PrometheusTelemetry() : null
  const telemetry: Telemetry = prometheus ?? noTelemetry
  const client = options.clickhouse ?? createClickHouseClient(config)
  const database = config.clickhouse.database
  try {
    await migrate(client, database)
  } catch (err) {
    await client.close()
    throw err
  }
  const usage = new ClickHouseUsageStore(client, database, config.job.customersPerChunk)
  const metrics = new MetricCatalog(new ClickHouseMetricStore(client, database))
  let anomalies: AnomalyStore
  try {
    await metrics.refresh()
    anomalies = await anomalyStores[config.anomalyStore.kind](config, clock)
  } catch (err) {
    await usage.close()
    throw err
  }
  const alerts = new AlertService(anomalies, channels, clock, {
    stormLimit: config.alerts.stormLimit,
    jobSlowMs: config.alerts.jobSlowMs,
    publicUrl: config.alerts.publicUrl?.replace(/\/+$/, '') ?? null,
    retry: {
      maxAttempts: config.alerts.maxAttempts,
      baseMs: config.alerts.retryBaseMs,
      maxMs: config.alerts.retryMaxMs,
    },
    // Long enough for one send to time out, short enough that a crashed attempt is retried soon.
    leaseMs: 2 * config.alerts.timeoutMs + 30_000,
    telemetry,
  })
  const { detector: _detector, detectorsByMetric: _byMetric, excludeFeedback, ...defaults } = config.detection
  const job = new DetectionJob({
    usage,
    anomalies,
    metrics,
    clock,
    volume: defaults,
    incidents: { resolveAfterCleanRuns: config.job.resolveAfterCleanRuns },
    excludedLabels: excludeFeedback === 'all' ? ['planned', 'false_positive'] : ['planned'],
    detectorFor: (metric) => ({
      ...config.detection.detector,
      ...config.detection.detectorsByMetric[metric],
    }),
    alerts,
  })
  return {
    config,
    clock,
    usage,
    metrics,
    anomalies,
    customers: new CustomerRegistry(anomalies, metrics, clock, defaults),
    job,
    alerts,
    keys: new ApiKeys(anomalies.apiKeys, clock),
    telemetry,
    exposition: prometheus,
    runSlot: (slot, trigger, whenBusy) =>
      runSlot({ job, alerts, anomalies, telemetry }, slot, trigger, whenBusy),
    ingest: (raw, options) => ingestEvents({ usage, metrics, clock, telemetry }, raw, options),
    check: (request) => checkAnomaly({ usage, metrics, clock, defaults }, request),
    async close() {
      await job.idle()
      await alerts.stop()
      // Close both even if one fails, then report the failure.
      const results = await Promise.allSettled([usage.close(), anomalies.close()])
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failure) throw failure.reason
    },
  }
}
