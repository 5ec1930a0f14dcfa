import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { ALERT_ENV_VARIABLES, alertsConfigSchema, boolFlag, scheduleExpression } from './alerts-config.js'
import {
  AUTH_ENV_VARIABLES,
  authConfigSchema,
  clientConfigSchema,
  rateLimitConfigSchema,
  refuseOpenNonLoopback,
} from './auth-config.js'
import { AWS_CREDENTIAL_VARIABLES } from './aws-credentials.js'
import { detectorOverridesSchema, detectorSchema, shapeConfigSchema } from './detector-config.js'
import { BOUNDS, type NumberRange } from './domain/limits.js'
import { MAX_SHARDS } from './domain/shard.js'

/** A number setting in `range` (finite: zod rejects Infinity, and the range bounds the rest). */
function bounded(range: NumberRange) {
  const number = range.integer ? z.coerce.number().int() : z.coerce.number()
  return (range.exclusiveMin ? number.gt(range.min) : number.min(range.min)).max(range.max)
}

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./.meterflow'),
    http: z
      .object({
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        host: z.string().min(1).default('127.0.0.1'),
      })
      .prefault({}),
    clickhouse: z
      .object({
        /** Unset: the embedded engine (chDB) under dataDir. Set: a ClickHouse server or Cloud. */
        url: z.url().optional(),
        username: z.string().default('default'),
        password: z.string().default(''),
        /**
         * A Secrets Manager secret (ARN) holding `{"url", "username", "password"}` (the Lambda): its fields win over
         * the three above. Read once per process at start.
         */
        secretArn: z.string().min(20).max(2048).startsWith('arn:').optional(),
        database: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
          .default('meterflow'),
      })
      .prefault({}),
    demo: z
      .object({
        /** Load demo data at start when the usage store is empty. */
        enabled: boolFlag.default(true),
        /**
         * While the service runs, keep writing the demo customers' usage hour by hour (src/demo/feed.ts); only for a
         * store holding the demo data, and never when `enabled` is off.
         */
        feed: boolFlag.default(true),
        customers: bounded(BOUNDS.demoCustomers).default(30),
        days: bounded(BOUNDS.demoDays).default(35),
        seed: bounded(BOUNDS.demoSeed).default(42),
      })
      .prefault({}),
    detection: z
      .object({
        baselineDays: bounded(BOUNDS.baselineDays).default(30),
        threshold: bounded(BOUNDS.threshold).default(3),
        criticalThreshold: bounded(BOUNDS.threshold).default(5),
        minSamples: bounded(BOUNDS.minSamples).default(7),
        minRelativeStddev: bounded(BOUNDS.minRelativeStddev).default(0.05),
        minAbsoluteStddev: bounded(BOUNDS.minAbsoluteStddev).default(1),
        /**
         * Which labelled incidents leave future baselines: planned activity only (default), or false positives
         * too. Measured: leaving false positives out raises false alarms (docs/detection.md, Feedback).
         */
        excludeFeedback: z.enum(['planned', 'all']).default('planned'),
        /** The detector the job uses (see docs/detection.md); per-metric entries override it. */
        detector: detectorSchema.prefault({}),
        detectorsByMetric: z.record(z.string(), detectorOverridesSchema).default({}),
        /** The shape signal (docs/detection.md, Shape): off by default, the eval measured it losing to volume alone. */
        shape: shapeConfigSchema.prefault({}),
      })
      .prefault({})
      .refine((d) => d.criticalThreshold >= d.threshold, {
        message: 'criticalThreshold must be at least threshold',
        path: ['criticalThreshold'],
      }),
    anomalyStore: z
      .object({
        kind: z.enum(['sqlite', 'dynamodb']).default('sqlite'),
        /** Default: dataDir/anomalies.sqlite */
        sqlitePath: z.string().min(1).optional(),
        dynamodb: z
          .object({
            table: z.string().min(3).max(255).default('meterflow-anomalies'),
            region: z.string().min(1).default('us-east-1'),
            /** A local DynamoDB-compatible endpoint (dynalite, DynamoDB Local). */
            endpoint: z.url().optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    job: z
      .object({
        /** Run detection on this EventBridge schedule inside the server. */
        schedulerEnabled: boolFlag.default(true),
        schedule: scheduleExpression.default('rate(1 hour)'),
        resolveAfterCleanRuns: z.coerce.number().int().min(1).max(1000).default(2),
        /** Customers per detection query: bounds the job's memory (see docs/decisions.md). */
        customersPerChunk: z.coerce.number().int().min(1).max(10_000_000).default(1_000),
        /**
         * Shards per run: 1 runs a slot in one process; more splits its customers into this many ranges, each
         * evaluated by a worker from `shardQueueUrl` (see docs/deploy.md, Sharding).
         */
        shards: z.coerce.number().int().min(1).max(MAX_SHARDS).default(1),
        /** The SQS queue the coordinator sends shard tasks to (required when shards > 1). */
        shardQueueUrl: z.url().optional(),
      })
      .prefault({})
      .refine((job) => job.shards === 1 || job.shardQueueUrl !== undefined, {
        message: 'required when job.shards is more than 1 (METERFLOW_JOB_SHARDS)',
        path: ['shardQueueUrl'],
      }),
    /** Where shape gets its profiles (docs/decisions.md, Shape VectorIndex). */
    shapeIndex: z
      .object({
        /** embedded: the hourly rollup alone. redis: day vectors in Redis Vector Sets (Redis >= 8). */
        kind: z.enum(['embedded', 'redis']).default('embedded'),
        redis: z
          .object({
            url: z.url().optional(),
            keyPrefix: z.string().min(1).max(200).default('meterflow:shape:'),
            /** Weeks of days each series keeps; more than detection.shape.baselineWeeks. */
            retentionWeeks: z.coerce.number().int().min(2).max(53).default(8),
            /** Commands per pipeline (a chunk's commands take ceil(n / this) round trips). */
            maxPipeline: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
          })
          .prefault({}),
      })
      .prefault({})
      .refine((index) => index.kind !== 'redis' || index.redis.url !== undefined, {
        message: 'required when shapeIndex.kind is redis (METERFLOW_SHAPE_INDEX=redis)',
        path: ['redis', 'url'],
      }),
    alerts: alertsConfigSchema.prefault({}),
    auth: authConfigSchema.prefault({}),
    rateLimit: rateLimitConfigSchema.prefault({}),
    client: clientConfigSchema.prefault({}),
    /** The AWS SDK's own credential variables, as found in the environment (the SDK reads their values itself). */
    awsCredentialEnv: z.record(z.string(), z.string()).default({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Prometheus metrics at GET /metrics (the server; one-shot CLI commands never collect them). */
    metrics: z.enum(['on', 'off']).default('on'),
  })
  .superRefine(refuseOpenNonLoopback)
  .superRefine((config, ctx) => {
    // A baseline day older than retention would be read through and written back on every run, then removed again.
    const { retentionWeeks } = config.shapeIndex.redis
    const { baselineWeeks } = config.detection.shape
    if (config.shapeIndex.kind === 'redis' && retentionWeeks <= baselineWeeks)
      ctx.addIssue({
        code: 'custom',
        message: `must be more than detection.shape.baselineWeeks (${baselineWeeks})`,
        path: ['shapeIndex', 'redis', 'retentionWeeks'],
      })
  })

export type Config = z.infer<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(`${message}:\n  ${issues.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

/** Environment variable -> config path. The README lists these; keep both in step. */
export const ENV_VARIABLES: Record<string, string> = {
  METERFLOW_DATA_DIR: 'dataDir',
  PORT: 'http.port',
  METERFLOW_HOST: 'http.host',
  METERFLOW_CLICKHOUSE_URL: 'clickhouse.url',
  METERFLOW_CLICKHOUSE_USER: 'clickhouse.username',
  METERFLOW_CLICKHOUSE_PASSWORD: 'clickhouse.password',
  METERFLOW_CLICKHOUSE_DATABASE: 'clickhouse.database',
  METERFLOW_CLICKHOUSE_SECRET_ARN: 'clickhouse.secretArn',
  METERFLOW_DEMO: 'demo.enabled',
  METERFLOW_DEMO_FEED: 'demo.feed',
  METERFLOW_DEMO_CUSTOMERS: 'demo.customers',
  METERFLOW_DEMO_DAYS: 'demo.days',
  METERFLOW_DEMO_SEED: 'demo.seed',
  METERFLOW_BASELINE_DAYS: 'detection.baselineDays',
  METERFLOW_THRESHOLD: 'detection.threshold',
  METERFLOW_CRITICAL_THRESHOLD: 'detection.criticalThreshold',
  METERFLOW_MIN_SAMPLES: 'detection.minSamples',
  METERFLOW_MIN_RELATIVE_STDDEV: 'detection.minRelativeStddev',
  METERFLOW_EXCLUDE_FEEDBACK: 'detection.excludeFeedback',
  METERFLOW_SHAPE_ENABLED: 'detection.shape.enabled',
  METERFLOW_SHAPE_THRESHOLD: 'detection.shape.threshold',
  METERFLOW_SHAPE_INDEX: 'shapeIndex.kind',
  METERFLOW_REDIS_URL: 'shapeIndex.redis.url',
  METERFLOW_SHAPE_KEY_PREFIX: 'shapeIndex.redis.keyPrefix',
  METERFLOW_SHAPE_RETENTION_WEEKS: 'shapeIndex.redis.retentionWeeks',
  METERFLOW_ANOMALY_STORE: 'anomalyStore.kind',
  METERFLOW_SQLITE_PATH: 'anomalyStore.sqlitePath',
  METERFLOW_DYNAMODB_TABLE: 'anomalyStore.dynamodb.table',
  AWS_REGION: 'anomalyStore.dynamodb.region',
  METERFLOW_AWS_ENDPOINT: 'anomalyStore.dynamodb.endpoint',
  METERFLOW_SCHEDULER: 'job.schedulerEnabled',
  METERFLOW_SCHEDULE: 'job.schedule',
  METERFLOW_RESOLVE_AFTER_CLEAN_RUNS: 'job.resolveAfterCleanRuns',
  METERFLOW_JOB_CUSTOMERS_PER_CHUNK: 'job.customersPerChunk',
  METERFLOW_JOB_SHARDS: 'job.shards',
  METERFLOW_SHARD_QUEUE_URL: 'job.shardQueueUrl',
  METERFLOW_LOG_LEVEL: 'logLevel',
  METERFLOW_METRICS: 'metrics',
  ...ALERT_ENV_VARIABLES,
  ...AUTH_ENV_VARIABLES,
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys[keys.length - 1] as string] = value
}

function readConfigFile(path: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(resolve(path), 'utf8'))
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${path} is invalid`, ['the file must hold a JSON object'])
    }
    return parsed as Record<string, unknown>
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`config file ${path} could not be read`, [(err as Error).message])
  }
}

/**
 * Builds the one config object from an optional JSON file (METERFLOW_CONFIG) and the environment;
 * the environment wins. Only this function reads environment variables, and only from `env`.
 */
export function loadConfig(env: Env, overrides: ConfigInput = {}): Config {
  const input: Record<string, unknown> = env.METERFLOW_CONFIG ? readConfigFile(env.METERFLOW_CONFIG) : {}
  for (const [name, path] of Object.entries(ENV_VARIABLES)) {
    const value = env[name]
    if (value !== undefined && value !== '') setPath(input, path, value)
  }
  input.awsCredentialEnv = Object.fromEntries(
    AWS_CREDENTIAL_VARIABLES.filter((name) => (env[name] ?? '') !== '').map((name) => [name, 'set']),
  )
  const merged = deepMerge(input, overrides as Record<string, unknown>)
  const result = configSchema.safeParse(merged)
  if (!result.success) {
    const envByPath = Object.fromEntries(Object.entries(ENV_VARIABLES).map(([k, v]) => [v, k]))
    const issues = result.error.issues.map((issue) => {
      const path = issue.path.join('.')
      // A list item's issue (alerts.email.to.0) names the variable of the list.
      const variable = issue.path
        .map((_, i) => envByPath[issue.path.slice(0, issue.path.length - i).join('.')])
        .find(Boolean)
      const source = variable ? ` (${variable})` : ''
      return `${path}${source}: ${issue.message}`
    })
    throw new ConfigError('invalid configuration', issues)
  }
  return result.data
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(extra)) {
    const existing = out[key]
    if (isPlainObject(value) && isPlainObject(existing)) out[key] = deepMerge(existing, value)
    else if (value !== undefined) out[key] = value
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
