import type { ClickHouseClient } from '@clickhouse/client'
import { createClickHouseClient } from './adapters/clickhouse/client.js'
import { ClickHouseMetricStore } from './adapters/clickhouse/metric-store.js'
import { migrate } from './adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from './adapters/clickhouse/usage-store.js'
import { type CheckRequest, type CheckResult, checkAnomaly } from './app/check-anomaly.js'
import { type IngestResult, ingestEvents } from './app/ingest.js'
import { MetricCatalog } from './app/metric-catalog.js'
import type { Config } from './config.js'
import { type Clock, systemClock, type UsageStore } from './ports.js'

/** The running application: the use cases bound to the adapters the config selects. */
export interface MeterFlow {
  config: Config
  clock: Clock
  usage: UsageStore
  metrics: MetricCatalog
  ingest(raw: unknown): Promise<IngestResult>
  check(request: CheckRequest): Promise<CheckResult>
  close(): Promise<void>
}

export interface OpenOptions {
  clock?: Clock
  /** An already open client (benchmarks share one engine between databases); closed with MeterFlow. */
  clickhouse?: ClickHouseClient
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
  const usage = new ClickHouseUsageStore(client, database)
  const metrics = new MetricCatalog(new ClickHouseMetricStore(client, database))
  await metrics.refresh()
  const defaults = { ...config.detection }
  return {
    config,
    clock,
    usage,
    metrics,
    ingest: (raw) => ingestEvents({ usage, metrics, clock }, raw),
    check: (request) => checkAnomaly({ usage, metrics, clock, defaults }, request),
    close: () => usage.close(),
  }
}
