import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { createClickHouseClient } from './adapters/clickhouse/client.js'
import { ClickHouseMetricStore } from './adapters/clickhouse/metric-store.js'
import { migrate } from './adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from './adapters/clickhouse/usage-store.js'
import { DynamoDbAnomalyStore } from './adapters/dynamodb/anomaly-store.js'
import { SqliteAnomalyStore } from './adapters/sqlite/anomaly-store.js'
import { type CheckRequest, type CheckResult, checkAnomaly } from './app/check-anomaly.js'
import { CustomerRegistry } from './app/customers.js'
import { DetectionJob } from './app/detection-job.js'
import { type IngestResult, ingestEvents } from './app/ingest.js'
import { MetricCatalog } from './app/metric-catalog.js'
import type { Config } from './config.js'
import { type AnomalyStore, type Clock, systemClock, type UsageStore } from './ports.js'

/** The running application: the use cases bound to the adapters the config selects. */
export interface MeterFlow {
  config: Config
  clock: Clock
  usage: UsageStore
  metrics: MetricCatalog
  anomalies: AnomalyStore
  customers: CustomerRegistry
  job: DetectionJob
  ingest(raw: unknown): Promise<IngestResult>
  check(request: CheckRequest): Promise<CheckResult>
  close(): Promise<void>
}

export interface OpenOptions {
  clock?: Clock
  /** An already open client (benchmarks share one engine between databases); closed with MeterFlow. */
  clickhouse?: ClickHouseClient
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
  const { detector: _detector, detectorsByMetric: _byMetric, ...defaults } = config.detection
  const job = new DetectionJob({
    usage,
    anomalies,
    metrics,
    clock,
    volume: defaults,
    incidents: { resolveAfterCleanRuns: config.job.resolveAfterCleanRuns },
    detectorFor: (metric) => ({
      ...config.detection.detector,
      ...config.detection.detectorsByMetric[metric],
    }),
  })
  return {
    config,
    clock,
    usage,
    metrics,
    anomalies,
    customers: new CustomerRegistry(anomalies, metrics, clock),
    job,
    ingest: (raw) => ingestEvents({ usage, metrics, clock }, raw),
    check: (request) => checkAnomaly({ usage, metrics, clock, defaults }, request),
    async close() {
      await job.idle()
      // Close both even if one fails, then report the failure.
      const results = await Promise.allSettled([usage.close(), anomalies.close()])
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failure) throw failure.reason
    },
  }
}
