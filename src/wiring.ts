import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { alertChannels, type ChannelContext } from './adapters/alerts/registry.js'
import { createClickHouseClient } from './adapters/clickhouse/client.js'
import { ClickHouseMetricStore } from './adapters/clickhouse/metric-store.js'
import { migrate, verifySchema } from './adapters/clickhouse/migrations.js'
import { ClickHouseUsageStore } from './adapters/clickhouse/usage-store.js'
import { DynamoDbAnomalyStore } from './adapters/dynamodb/anomaly-store.js'
import { PrometheusTelemetry } from './adapters/prometheus/telemetry.js'
import type { RoutedChannel } from './app/alerting/raise.js'
import { AlertService } from './app/alerting/service.js'
import { ApiKeys } from './app/api-keys.js'
import { type CheckRequest, type CheckResult, checkAnomaly } from './app/check-anomaly.js'
import { type CustomerSeries, customerSeries, type SeriesRequest } from './app/customer-series.js'
import { CustomerRegistry } from './app/customers.js'
import { DetectionJob } from './app/detection-job.js'
import { embeddedVectorIndex } from './app/embedded-vector-index.js'
import { type IngestOptions, type IngestResult, ingestEvents } from './app/ingest.js'
import { MetricCatalog } from './app/metric-catalog.js'
import type { DetectionDeps, RunOptions } from './app/run-detection.js'
import { runSlot, type SlotRun } from './app/run-slot.js'
import {
  runShard,
  type ShardedRunDeps,
  type ShardedRunStart,
  type ShardOutcome,
  startShardedRun,
} from './app/sharded-run.js'
import { type Config, ConfigError } from './config.js'
import type { DetectionRun } from './domain/run.js'
import type { ShardTask } from './domain/shard.js'
import {
  type AnomalyStore,
  type Clock,
  type MetricsExposition,
  noTelemetry,
  type ShardQueue,
  systemClock,
  type Telemetry,
  type UsageStore,
  type VectorIndex,
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
  runSlot(
    slot: number,
    trigger: DetectionRun['trigger'],
    whenBusy: 'wait' | 'refuse',
    options?: RunOptions,
  ): Promise<SlotRun>
  check(request: CheckRequest): Promise<CheckResult>
  /** A customer's metric slot by slot with the baseline the job's detector computes (the dashboard's chart). */
  series(request: SeriesRequest): Promise<CustomerSeries>
  /** The coordinator of a sharded run: records it and sends one task per customer range (app/sharded-run.ts). */
  startShardedRun(
    slot: number,
    trigger: DetectionRun['trigger'],
    options?: Pick<RunOptions, 'runId'>,
  ): Promise<ShardedRunStart>
  /** A worker's part of a sharded run; the shard that completes the set finishes the run. */
  runShard(task: ShardTask, options?: Pick<RunOptions, 'deadline'>): Promise<ShardOutcome>
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
  /**
   * `migrate` (default: the server and the CLI bring the schema up to date) or `verify`: one query, and a
   * SchemaVersionError naming `meterflow migrate` when the database is behind or ahead (the Lambda).
   */
  schema?: 'migrate' | 'verify'
  /** Where to report telemetry instead of the config's Prometheus metrics (the Lambda: CloudWatch EMF). */
  telemetry?: Telemetry
  /** Where a sharded run's tasks go (default: the SQS queue of the config). */
  shardQueue?: ShardQueue
}

/** The config's SQS queue for shard tasks, created on first send (only a coordinator sends); close() ends it. */
function configuredShardQueue(config: Config): ShardQueue & { close(): Promise<void> } {
  let queue: Promise<ShardQueue & { close(): void }> | null = null
  return {
    async send(tasks) {
      const queueUrl = config.job.shardQueueUrl
      if (!queueUrl) {
        throw new ConfigError('invalid configuration', [
          'job.shardQueueUrl (METERFLOW_SHARD_QUEUE_URL): required to run a slot in shards',
        ])
      }
      const { endpoint, region } = config.anomalyStore.dynamodb
      queue ??= import('./adapters/sqs/shard-queue.js').then(
        ({ SqsShardQueue }) =>
          new SqsShardQueue({
            queueUrl,
            region,
            // With local AWS-compatible endpoints (METERFLOW_AWS_ENDPOINT), the queue's URL says where SQS answers.
            ...(endpoint ? { endpoint: new URL(queueUrl).origin } : {}),
            env: config.awsCredentialEnv,
          }),
      )
      await (await queue).send(tasks)
    },
    async close() {
      ;(await queue?.catch(() => null))?.close()
    },
  }
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
  // Imported on use: better-sqlite3 is native, and the Lambda (DynamoDB) must never load it.
  sqlite: async (config, clock) =>
    (await import('./adapters/sqlite/anomaly-store.js')).SqliteAnomalyStore.open(
      config.anomalyStore.sqlitePath ?? join(config.dataDir, 'anomalies.sqlite'),
      clock,
    ),
  dynamodb: async (config, clock) =>
    DynamoDbAnomalyStore.open({ ...config.anomalyStore.dynamodb, clock, env: config.awsCredentialEnv }),
}

/** Shape VectorIndex adapters by config kind: a new index is one folder plus one line here. */
const shapeIndexes: Record<
  Config['shapeIndex']['kind'],
  (config: Config, usage: UsageStore) => Promise<VectorIndex>
> = {
  embedded: async (_config, usage) => embeddedVectorIndex(usage),
  // Imported on use: deployments without Redis never load the client.
  redis: async (config, usage) => {
    const { url, ...options } = config.shapeIndex.redis
    return (await import('./adapters/redis/client.js')).openRedisVectorIndex(
      { url: url as string },
      usage,
      options,
    )
  },
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
  const prometheus =
    !options.telemetry && config.metrics === 'on' && (options.metrics ?? true)
      ? new PrometheusTelemetry()
      : null
  const telemetry: Telemetry = options.telemetry ?? prometheus ?? noTelemetry
  const client = options.clickhouse ?? (await createClickHouseClient(config))
  const database = config.clickhouse.database
  try {
    await (options.schema === 'verify' ? verifySchema(client, database) : migrate(client, database))
  } catch (err) {
    await client.close()
    throw err
  }
  const usage = new ClickHouseUsageStore(client, database, config.job.customersPerChunk, {
    cacheHistories: !config.clickhouse.url,
  })
  const metrics = new MetricCatalog(new ClickHouseMetricStore(client, database))
  let anomalies: AnomalyStore
  try {
    await metrics.refresh()
    anomalies = await anomalyStores[config.anomalyStore.kind](config, clock)
  } catch (err) {
    await usage.close()
    throw err
  }
  let shapeIndex: VectorIndex
  try {
    shapeIndex = await shapeIndexes[config.shapeIndex.kind](config, usage)
  } catch (err) {
    await Promise.allSettled([usage.close(), anomalies.close()])
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
  const {
    detector: _detector,
    detectorsByMetric: _byMetric,
    shape: { enabled: shapeEnabled, ...shapeSettings },
    excludeFeedback,
    ...defaults
  } = config.detection
  const detection: DetectionDeps = {
    usage,
    anomalies,
    metrics,
    clock,
    volume: defaults,
    incidents: { resolveAfterCleanRuns: config.job.resolveAfterCleanRuns },
    excludedLabels: excludeFeedback === 'all' ? ['planned', 'false_positive'] : ['planned'],
    shape: shapeEnabled ? shapeSettings : null,
    shapeIndex,
    detectorFor: (metric) => ({
      ...config.detection.detector,
      ...config.detection.detectorsByMetric[metric],
    }),
    alerts,
  }
  const job = new DetectionJob(detection)
  const ownQueue = options.shardQueue ? null : configuredShardQueue(config)
  const sharded: ShardedRunDeps = {
    ...detection,
    alerts,
    telemetry,
    shards: config.job.shards,
    queue: options.shardQueue ?? (ownQueue as ShardQueue),
  }
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
    runSlot: (slot, trigger, whenBusy, options) =>
      runSlot({ job, alerts, anomalies, telemetry }, slot, trigger, whenBusy, options),
    startShardedRun: (slot, trigger, runOptions) => startShardedRun(sharded, slot, trigger, runOptions),
    runShard: (task, runOptions) => runShard(sharded, task, runOptions),
    ingest: (raw, options) => ingestEvents({ usage, metrics, clock, telemetry }, raw, options),
    check: (request) =>
      checkAnomaly(
        { usage, metrics, clock, defaults, shape: shapeSettings, shapeIndex, job: detection },
        request,
      ),
    series: (request) => customerSeries(detection, request),
    async close() {
      await job.idle()
      await alerts.stop()
      // Close both even if one fails, then report the failure.
      const results = await Promise.allSettled([
        usage.close(),
        anomalies.close(),
        shapeIndex.close(),
        ownQueue?.close(),
      ])
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failure) throw failure.reason
    },
  }
}
