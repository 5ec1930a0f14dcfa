import { Logger } from '@aws-lambda-powertools/logger'
import { PowertoolsTelemetry } from '../adapters/powertools/telemetry.js'
import { withClickHouseSecret } from '../adapters/secrets-manager/index.js'
import { type Config, ConfigError, loadConfig } from '../config.js'
import type { Clock } from '../ports.js'
import { type MeterFlow, openMeterFlow } from '../wiring.js'

/** What one Lambda container keeps between invocations: the production adapters, opened once. */
export interface LambdaContainer {
  meterflow: MeterFlow
  telemetry: PowertoolsTelemetry
  close(): Promise<void>
}

export interface LambdaContainerOptions {
  logger: Logger
  /** CloudWatch namespace of the metrics (default MeterFlow). */
  namespace?: string
  /**
   * Allow the embedded engine (tests: no ClickHouse server here). The deployed Lambda requires a URL: chDB is not in
   * the bundle, and a function-local database would lose every event at the next cold start.
   */
  allowEmbedded?: boolean
  clock?: Clock
}

const POWERTOOLS_LEVEL = {
  fatal: 'CRITICAL',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'SILENT',
} as const satisfies Record<Config['logLevel'], string>

/**
 * Opens the production adapters for a container: the ClickHouse secret (if configured) read once, the schema
 * version checked (never migrated: `meterflow migrate` does that before a deploy), the anomaly store, SNS and
 * the other configured channels, and EMF metrics (the shard queue is the config's, opened on first send).
 */
export async function openLambdaContainer(
  base: Config,
  options: LambdaContainerOptions,
): Promise<LambdaContainer> {
  const { logger } = options
  logger.setLogLevel(POWERTOOLS_LEVEL[base.logLevel])
  const config = await withClickHouseSecret(base)
  const problems: string[] = []
  if (!config.clickhouse.url && !options.allowEmbedded) {
    problems.push(
      'clickhouse.url (METERFLOW_CLICKHOUSE_URL, or url in METERFLOW_CLICKHOUSE_SECRET_ARN): required in the Lambda, which has no embedded engine',
    )
  }
  if (problems.length > 0) throw new ConfigError('invalid configuration', problems)
  const telemetry = new PowertoolsTelemetry({
    ...(options.namespace ? { namespace: options.namespace } : {}),
    onError: (err) => logger.warn('could not record a metric', { error: err as Error }),
  })
  const meterflow = await openMeterFlow(config, {
    schema: 'verify',
    telemetry,
    metrics: false,
    // The console channel's lines become structured log entries.
    write: (line) => logger.info(line, { channel: 'console' }),
    ...(options.clock ? { clock: options.clock } : {}),
  })
  return { meterflow, telemetry, close: () => meterflow.close() }
}

/**
 * One container per Lambda execution environment, opened on first use. A failed opening is forgotten, so the next
 * invocation tries again instead of failing for the container's whole life.
 */
export class ContainerCache {
  private current: Promise<LambdaContainer> | null = null

  constructor(private readonly open: () => Promise<LambdaContainer>) {}

  get(): Promise<LambdaContainer> {
    if (!this.current) {
      const opening = this.open()
      this.current = opening
      opening.catch(() => {
        if (this.current === opening) this.current = null
      })
    }
    return this.current
  }

  /** Closes the open container, if any (tests; the Lambda runtime just freezes or ends the process). */
  async close(): Promise<void> {
    const current = this.current
    this.current = null
    if (current) await (await current.catch(() => null))?.close()
  }
}

/** The Lambda's structured logger (service `meterflow`; the level follows METERFLOW_LOG_LEVEL once config is read). */
export const lambdaLogger = new Logger({ serviceName: 'meterflow' })

/**
 * The deployed functions' container: config from the environment (the one place the Lambda reads it), opened on
 * the first invocation, shared by both handlers of the bundle.
 */
export const lambdaContainers = new ContainerCache(async () => {
  const env = process.env
  return openLambdaContainer(loadConfig(env), {
    logger: lambdaLogger,
    ...(env.POWERTOOLS_METRICS_NAMESPACE ? { namespace: env.POWERTOOLS_METRICS_NAMESPACE } : {}),
  })
})
