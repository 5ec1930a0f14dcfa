import { execFile } from 'node:child_process'
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve as resolvePath } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { METRIC_INDEX, TTL } from '../src/adapters/dynamodb/keys.js'
import { anomalyTableDefinition } from '../src/adapters/dynamodb/table.js'
import { DEFAULT_EMF_NAMESPACE, EMF_METRIC, EMF_SERVICE } from '../src/adapters/powertools/telemetry.js'
import { ENV_VARIABLES, loadConfig } from '../src/config.js'
import {
  type Block,
  dataSource,
  loadModule,
  local,
  type Module,
  nested,
  nestedAll,
  ref,
  resolve,
  resource,
  variable,
} from './terraform-hcl.js'

// The Terraform module (deploy/terraform) checked against the list and against the code it deploys: the
// table's schema, the environment names, the metric names and the DynamoDB calls come from src/, so the module
// and the code cannot drift apart unnoticed. Then the terraform CLI where it exists: fmt, validate, and the
// module's own `terraform test` (a real plan with the AWS provider, offline).

const ROOT = 'deploy/terraform'
const MODULE_DIR = `${ROOT}/modules/meterflow`
const EXAMPLE_DIR = `${ROOT}/examples/basic`

let mod: Module
let example: Module

beforeAll(async () => {
  mod = await loadModule(MODULE_DIR)
  example = await loadModule(EXAMPLE_DIR)
})

/** The `${...}` references of a value rendered as JSON (for attributes holding whole expressions). */
const text = (value: unknown) => JSON.stringify(value)

describe('layout', () => {
  it('splits the module by concern and ships an example root module and a README', () => {
    expect(mod.files).toEqual(
      expect.arrayContaining(
        [
          'main',
          'variables',
          'outputs',
          'versions',
          'lambda',
          'iam',
          'schedule',
          'dynamodb',
          'sns',
          'sqs',
          'alarms',
        ].map((f) => `${f}.tf`),
      ),
    )
    expect(example.modules.meterflow?.source).toBe('../../modules/meterflow')
    expect(existsSync(`${EXAMPLE_DIR}/terraform.tfvars.example`)).toBe(true)
    expect(existsSync(`${ROOT}/README.md`)).toBe(true)
  })

  it('pins Terraform 1.9+ and the AWS provider in both', () => {
    for (const m of [mod, example]) {
      const tf = m.terraform[0] as Block
      expect(tf.required_version).toBe('>= 1.9')
      const providers = nested(tf, 'required_providers') as Record<string, { source: string }>
      expect(providers.aws?.source).toBe('hashicorp/aws')
    }
  })

  it('the example points at the zip `npm run build:lambda` writes and tags through default_tags', () => {
    const zip = variable(example, 'lambda_zip_path').default as string
    expect(resolvePath(EXAMPLE_DIR, zip)).toBe(resolvePath('dist/lambda/meterflow-lambda.zip'))
    expect(example.modules.meterflow?.lambda_zip_path).toBe(ref('var.lambda_zip_path'))
    expect(nested(example.providers.aws as Block, 'default_tags').tags).toBe(ref('var.default_tags'))
  })
})

describe('variables', () => {
  it('every variable has a description and a type', () => {
    for (const m of [mod, example]) {
      for (const [name, v] of Object.entries(m.variables)) {
        expect(v.description, `${m.dir} ${name}`).toMatch(/\S{3}/)
        expect(v.type, `${m.dir} ${name}`).toMatch(/^\$\{/)
      }
    }
  })

  const conditions = (name: string) =>
    ((variable(mod, name).validation ?? []) as Block[]).map((v) => v.condition as string).join(' ')

  it('runtime defaults to nodejs22.x and accepts only nodejs22.x and nodejs24.x', () => {
    expect(variable(mod, 'runtime').default).toBe('nodejs22.x')
    expect(conditions('runtime')).toBe(ref('contains(["nodejs22.x", "nodejs24.x"], var.runtime)'))
  })

  it('memory and timeouts default to 512 MB / 300 s and are bounded to what Lambda accepts', () => {
    for (const fn of ['run', 'worker']) {
      expect(variable(mod, `${fn}_memory_mb`).default).toBe(512)
      expect(variable(mod, `${fn}_timeout_seconds`).default).toBe(300)
      expect(conditions(`${fn}_memory_mb`)).toMatch(/>= 128 .*<= 10240/)
      expect(conditions(`${fn}_timeout_seconds`)).toMatch(/>= 1 .*<= 900/)
    }
  })

  it('the schedule defaults to rate(1 hour) and its pattern accepts what EventBridge accepts', () => {
    expect(variable(mod, 'schedule_expression').default).toBe('rate(1 hour)')
    // The RE2 patterns of the condition, unescaped from HCL strings; these ones are valid JavaScript too.
    const patterns = [...conditions('schedule_expression').matchAll(/regex\("((?:[^"\\]|\\.)*)"/g)].map(
      (m) => new RegExp((m[1] as string).replace(/\\\\/g, '\\')),
    )
    expect(patterns).toHaveLength(2)
    const [accept, reject] = patterns as [RegExp, RegExp]
    const valid = (s: string) => accept.test(s) && !reject.test(s)
    for (const ok of ['rate(1 hour)', 'rate(5 minutes)', 'rate(2 days)', 'cron(0 * * * ? *)']) {
      expect(valid(ok), ok).toBe(true)
    }
    for (const bad of ['rate(1 hours)', 'rate(2 hour)', 'rate(0 hours)', 'cron(0 * * * *)', 'hourly', '']) {
      expect(valid(bad), bad).toBe(false)
    }
  })

  it('architecture defaults to arm64; logs keep 30 days; one shard, three deliveries, deletion protection on', () => {
    expect(variable(mod, 'architecture').default).toBe('arm64')
    expect(variable(mod, 'log_retention_days').default).toBe(30)
    expect(variable(mod, 'log_level').default).toBe('INFO')
    expect(variable(mod, 'job_shards').default).toBe(1)
    expect(variable(mod, 'shard_max_receive_count').default).toBe(3)
    expect(variable(mod, 'deletion_protection').default).toBe(true)
  })
})

describe('DynamoDB table', () => {
  it('is the code’s table definition: keys, attribute types and the GSI (src/adapters/dynamodb/table.ts)', () => {
    const table = resource(mod, 'aws_dynamodb_table', 'anomalies')
    const code = anomalyTableDefinition('t')
    expect(table.billing_mode).toBe(code.BillingMode)
    const keyOf = (type: string) => code.KeySchema?.find((k) => k.KeyType === type)?.AttributeName
    expect(table.hash_key).toBe(keyOf('HASH'))
    expect(table.range_key).toBe(keyOf('RANGE'))
    const attributes = (table.attribute as Block[]).map((a) => [a.name, a.type])
    expect(attributes).toEqual(
      expect.arrayContaining(
        (code.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
      ),
    )
    expect(attributes).toHaveLength(code.AttributeDefinitions?.length ?? -1)

    const gsi = nested(table, 'global_secondary_index')
    const codeGsi = code.GlobalSecondaryIndexes?.[0]
    expect(code.GlobalSecondaryIndexes).toHaveLength(1)
    expect(gsi.name).toBe(METRIC_INDEX)
    expect(gsi.name).toBe('metric-severity-index')
    expect(gsi.hash_key).toBe(codeGsi?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName)
    expect(gsi.range_key).toBe(codeGsi?.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName)
    expect(gsi.projection_type).toBe(codeGsi?.Projection?.ProjectionType)
    // And the design's literal values, in case the code changes.
    expect([table.billing_mode, table.hash_key, table.range_key]).toEqual(['PAY_PER_REQUEST', 'pk', 'sk'])
    expect([gsi.hash_key, gsi.range_key, gsi.projection_type]).toEqual(['metric', 'detected_at', 'ALL'])
  })

  it('expires items on ttl, keeps point-in-time recovery, encryption and deletion protection', () => {
    const table = resource(mod, 'aws_dynamodb_table', 'anomalies')
    expect(nested(table, 'ttl')).toEqual({ attribute_name: TTL, enabled: true })
    expect(nested(table, 'point_in_time_recovery')).toEqual({ enabled: true })
    expect(nested(table, 'server_side_encryption')).toEqual({ enabled: true })
    expect(table.deletion_protection_enabled).toBe(ref('var.deletion_protection'))
    expect(resolve(mod, ref('local.table_name'))).toBe(
      ref(`coalesce(var.table_name, "${ref('var.name')}-anomalies")`),
    )
  })
})

describe('functions', () => {
  const functions = () => local(mod, 'functions') as Record<string, Block>

  it('run (index.handler) and worker (index.worker) from one zip, with the runtime and architecture variables', () => {
    expect(Object.keys(functions()).sort()).toEqual(['run', 'worker'])
    expect(functions().run?.handler).toBe('index.handler')
    expect(functions().worker?.handler).toBe('index.worker')
    for (const fn of ['run', 'worker']) {
      expect(functions()[fn]?.memory_mb).toBe(ref(`var.${fn}_memory_mb`))
      expect(functions()[fn]?.timeout_seconds).toBe(ref(`var.${fn}_timeout_seconds`))
    }
    const lambda = resource(mod, 'aws_lambda_function', 'this')
    expect(lambda).toMatchObject({
      for_each: ref('local.functions'),
      handler: ref('each.value.handler'),
      runtime: ref('var.runtime'),
      architectures: [ref('var.architecture')],
      memory_size: ref('each.value.memory_mb'),
      timeout: ref('each.value.timeout_seconds'),
      filename: ref('var.lambda_zip_path'),
      source_code_hash: ref('filebase64sha256(var.lambda_zip_path)'),
      role: ref('aws_iam_role.function[each.key].arn'),
    })
    expect(nested(lambda, 'environment').variables).toBe(ref('local.environment'))
  })

  it('each writes to its own log group, created with the retention variable', () => {
    const group = resource(mod, 'aws_cloudwatch_log_group', 'function')
    expect(group).toMatchObject({
      for_each: ref('local.functions'),
      name: `/aws/lambda/${ref('each.value.function_name')}`,
      retention_in_days: ref('var.log_retention_days'),
    })
    const logging = nested(resource(mod, 'aws_lambda_function', 'this'), 'logging_config')
    expect(logging.log_group).toBe(ref('aws_cloudwatch_log_group.function[each.key].name'))
  })

  it('the environment holds the contract’s names, all known to src/config.ts, and never AWS_REGION', () => {
    const required = local(mod, 'required_environment') as Record<string, string>
    const optional = local(mod, 'optional_environment') as Record<string, string>
    expect(required).toEqual({
      METERFLOW_ANOMALY_STORE: 'dynamodb',
      METERFLOW_DYNAMODB_TABLE: ref('aws_dynamodb_table.anomalies.name'),
      ALERT_TOPIC_ARN: ref('aws_sns_topic.alerts.arn'),
      METERFLOW_JOB_SHARDS: ref('tostring(var.job_shards)'),
      METERFLOW_SHARD_QUEUE_URL: ref('aws_sqs_queue.shards.url'),
      POWERTOOLS_SERVICE_NAME: ref('local.metrics_service'),
      POWERTOOLS_METRICS_NAMESPACE: ref('var.metrics_namespace'),
      POWERTOOLS_LOG_LEVEL: ref('var.log_level'),
      METERFLOW_LOG_LEVEL: ref('local.meterflow_log_levels[var.log_level]'),
      NODE_OPTIONS: '--enable-source-maps',
    })
    expect(optional).toEqual({
      METERFLOW_CLICKHOUSE_URL: ref('var.clickhouse_url'),
      METERFLOW_CLICKHOUSE_SECRET_ARN: ref('var.clickhouse_secret_arn'),
      METERFLOW_PUBLIC_URL: ref('var.public_url'),
    })
    for (const name of [...Object.keys(required), ...Object.keys(optional)]) {
      if (!/^(POWERTOOLS_|NODE_OPTIONS$)/.test(name)) expect(ENV_VARIABLES, name).toHaveProperty(name)
    }
    // The code applies METERFLOW_LOG_LEVEL over POWERTOOLS_LOG_LEVEL once its config is loaded: every level maps to
    // one the config accepts.
    const levels = local(mod, 'meterflow_log_levels') as Record<string, string>
    expect(Object.keys(levels)).toContain(variable(mod, 'log_level').default)
    for (const level of Object.values(levels)) {
      expect(loadConfig({ METERFLOW_LOG_LEVEL: level }).logLevel).toBe(level)
    }
    // The code fixes the service dimension and defaults the namespace: the alarms below must use the same.
    expect(resolve(mod, ref('local.metrics_service'))).toBe(EMF_SERVICE)
    expect(variable(mod, 'metrics_namespace').default).toBe(DEFAULT_EMF_NAMESPACE)
    // Extra variables first, so the module's own settings win; AWS_REGION is Lambda's to set.
    const environment = local(mod, 'environment') as string
    expect(environment).toMatch(/^\$\{merge\(\s*var\.extra_environment,/)
    expect(environment).toMatch(/local\.required_environment,?\s*\)\}$/)
    expect(text(mod.locals)).not.toContain('AWS_REGION =')
    expect(text(mod.locals)).not.toMatch(/"AWS_REGION"\s*:/)
  })

  it('joins the VPC only when subnets are given', () => {
    const [vpc] = nestedAll(resource(mod, 'aws_lambda_function', 'this'), 'vpc_config')
    expect(vpc?.forEach).toBe(ref('local.vpc_enabled ? [1] : []'))
    expect(vpc?.content).toEqual({
      subnet_ids: ref('var.vpc_subnet_ids'),
      security_group_ids: ref('var.vpc_security_group_ids'),
    })
    expect(local(mod, 'vpc_enabled')).toBe(ref('length(var.vpc_subnet_ids) > 0'))
  })
})

describe('schedule', () => {
  it('an EventBridge rule on the schedule variable targets the run function with retries and a DLQ', () => {
    expect(resource(mod, 'aws_cloudwatch_event_rule', 'schedule').schedule_expression).toBe(
      ref('var.schedule_expression'),
    )
    const target = resource(mod, 'aws_cloudwatch_event_target', 'run')
    expect(target.arn).toBe(ref('aws_lambda_function.this["run"].arn'))
    expect(target.rule).toBe(ref('aws_cloudwatch_event_rule.schedule.name'))
    expect(nested(target, 'retry_policy')).toEqual({
      maximum_event_age_in_seconds: ref('var.schedule_retry_max_event_age_seconds'),
      maximum_retry_attempts: ref('var.schedule_retry_max_attempts'),
    })
    expect(nested(target, 'dead_letter_config').arn).toBe(ref('aws_sqs_queue.schedule_dlq.arn'))
  })

  it('only this rule may invoke the run function', () => {
    expect(resource(mod, 'aws_lambda_permission', 'allow_eventbridge')).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'events.amazonaws.com',
      function_name: ref('aws_lambda_function.this["run"].function_name'),
      source_arn: ref('aws_cloudwatch_event_rule.schedule.arn'),
    })
  })

  it('only this rule may send to the schedule DLQ', () => {
    expect(resource(mod, 'aws_sqs_queue_policy', 'schedule_dlq')).toMatchObject({
      queue_url: ref('aws_sqs_queue.schedule_dlq.id'),
      policy: ref('data.aws_iam_policy_document.schedule_dlq.json'),
    })
    const statement = nested(dataSource(mod, 'aws_iam_policy_document', 'schedule_dlq'), 'statement')
    expect(statement.actions).toEqual(['sqs:SendMessage'])
    expect(statement.resources).toEqual([ref('aws_sqs_queue.schedule_dlq.arn')])
    expect(nested(statement, 'principals')).toEqual({
      type: 'Service',
      identifiers: ['events.amazonaws.com'],
    })
    expect(nested(statement, 'condition')).toEqual({
      test: 'ArnEquals',
      variable: 'aws:SourceArn',
      values: [ref('aws_cloudwatch_event_rule.schedule.arn')],
    })
  })

  it('Lambda retries a failed run asynchronously, then sends it to the schedule DLQ', () => {
    const invoke = resource(mod, 'aws_lambda_function_event_invoke_config', 'run')
    expect(invoke.function_name).toBe(ref('aws_lambda_function.this["run"].function_name'))
    expect(invoke.maximum_retry_attempts).toBe(ref('var.run_async_max_retry_attempts'))
    expect(variable(mod, 'run_async_max_retry_attempts').default).toBe(2)
    const onFailure = nested(nested(invoke, 'destination_config'), 'on_failure')
    expect(onFailure.destination).toBe(ref('aws_sqs_queue.schedule_dlq.arn'))
  })
})

describe('shard queue', () => {
  it('redrives to the shard DLQ after shard_max_receive_count deliveries', () => {
    const queue = resource(mod, 'aws_sqs_queue', 'shards')
    expect(queue.redrive_policy).toMatch(/deadLetterTargetArn\s*=\s*aws_sqs_queue\.shard_dlq\.arn/)
    expect(queue.redrive_policy).toMatch(/maxReceiveCount\s*=\s*var\.shard_max_receive_count/)
    expect(queue.visibility_timeout_seconds).toBe(ref('local.shard_visibility_timeout_seconds'))
    expect(local(mod, 'shard_visibility_timeout_seconds')).toBe(
      ref('coalesce(var.shard_visibility_timeout_seconds, 6 * var.worker_timeout_seconds)'),
    )
    expect(resource(mod, 'aws_sqs_queue', 'shard_dlq').message_retention_seconds).toBe(1209600)
  })

  it('drives the worker one shard at a time with partial-batch failure reporting', () => {
    const mapping = resource(mod, 'aws_lambda_event_source_mapping', 'shards')
    expect(mapping).toMatchObject({
      event_source_arn: ref('aws_sqs_queue.shards.arn'),
      function_name: ref('aws_lambda_function.this["worker"].arn'),
      batch_size: 1,
      function_response_types: ['ReportBatchItemFailures'],
    })
    const [scaling] = nestedAll(mapping, 'scaling_config')
    expect(scaling?.forEach).toContain('var.worker_maximum_concurrency')
    expect(variable(mod, 'worker_maximum_concurrency').default).toBeNull()
  })
})

describe('SNS', () => {
  it('alerts topic with optional email and https subscribers; ops topic with optional email subscribers', () => {
    resource(mod, 'aws_sns_topic', 'alerts')
    resource(mod, 'aws_sns_topic', 'ops')
    for (const [name, protocol, topic, list] of [
      ['alerts_email', 'email', 'alerts', 'alert_email_addresses'],
      ['alerts_https', 'https', 'alerts', 'alert_https_endpoints'],
      ['ops_email', 'email', 'ops', 'ops_email_addresses'],
    ]) {
      expect(resource(mod, 'aws_sns_topic_subscription', name as string)).toMatchObject({
        for_each: ref(`toset(var.${list})`),
        protocol,
        topic_arn: ref(`aws_sns_topic.${topic}.arn`),
        endpoint: ref('each.value'),
      })
      expect(variable(mod, list as string).default).toEqual([])
    }
  })

  it('CloudWatch (this stack’s alarms) may publish to the ops topic', () => {
    expect(resource(mod, 'aws_sns_topic_policy', 'ops').arn).toBe(ref('aws_sns_topic.ops.arn'))
    const statement = nested(dataSource(mod, 'aws_iam_policy_document', 'ops_topic'), 'statement')
    expect(statement.actions).toEqual(['sns:Publish'])
    expect(statement.resources).toEqual([ref('aws_sns_topic.ops.arn')])
    expect(nested(statement, 'principals').identifiers).toEqual(['cloudwatch.amazonaws.com'])
    expect(nested(statement, 'condition').values).toEqual([
      `arn:${ref('local.partition')}:cloudwatch:${ref('local.region')}:${ref('local.account_id')}:alarm:${ref('var.name')}-*`,
    ])
  })
})

describe('IAM', () => {
  const LOG_STREAMS = `${ref('aws_cloudwatch_log_group.function[each.key].arn')}:*`
  /** Every statement of every policy document in the module, with the document's name. */
  const statements = () =>
    Object.entries(mod.data.aws_iam_policy_document ?? {}).flatMap(([doc, block]) =>
      nestedAll(block, 'statement').map(({ content }) => ({ doc, ...content }) as Block & { doc: string }),
    )
  const bySid = (sid: string) => {
    const found = statements().filter((s) => s.sid === sid)
    expect(found, sid).toHaveLength(1)
    return found[0] as Block
  }

  /** What src/adapters/dynamodb sends at run time (table.ts is `meterflow dynamodb create-table`, not the Lambda). */
  function dynamoDbActionsInCode(): string[] {
    const dir = 'src/adapters/dynamodb'
    const names = new Set<string>()
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      if (file === 'table.ts') continue
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/new (\w+)Command\(/g)) {
        const name = m[1] as string
        const suffix = /^(Get|Put|Update|Delete|BatchGet|BatchWrite)$/.test(name)
          ? 'Item'
          : /^Transact(Get|Write)$/.test(name)
            ? 'Items'
            : ''
        names.add(`dynamodb:${name}${suffix}`)
      }
    }
    return [...names].sort()
  }

  it('DynamoDB: exactly the calls the code makes, on the table and its GSI only', () => {
    const table = bySid('AnomalyTable')
    const inCode = dynamoDbActionsInCode()
    expect(inCode).toContain('dynamodb:PutItem')
    expect([...(table.actions as string[])].sort()).toEqual(inCode)
    expect(table.actions).not.toContain('dynamodb:Scan')
    expect(table.resources).toEqual([
      ref('aws_dynamodb_table.anomalies.arn'),
      `${ref('aws_dynamodb_table.anomalies.arn')}/index/metric-severity-index`,
    ])
  })

  it('SNS publish on the alerts topic; the ClickHouse secret and its optional key; own log groups', () => {
    expect(bySid('AlertsTopic')).toMatchObject({
      actions: ['sns:Publish'],
      resources: [ref('aws_sns_topic.alerts.arn')],
    })
    const secret = statements().find((s) => s.sid === 'ClickHouseSecret')
    expect(secret).toMatchObject({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [ref('statement.value')],
    })
    const key = statements().find((s) => s.sid === 'ClickHouseSecretKey')
    expect(key).toMatchObject({ actions: ['kms:Decrypt'], resources: [ref('statement.value')] })
    const app = nestedAll(dataSource(mod, 'aws_iam_policy_document', 'app'), 'statement')
    expect(app.map((s) => s.forEach).filter(Boolean)).toEqual([
      ref('var.clickhouse_secret_arn == null ? [] : [var.clickhouse_secret_arn]'),
      ref('var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]'),
    ])
    expect(bySid('OwnLogGroup')).toMatchObject({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [LOG_STREAMS],
    })
  })

  it('the run function sends shards (and async failures); the worker consumes them', () => {
    expect(bySid('SendShards')).toMatchObject({
      actions: ['sqs:SendMessage'],
      resources: [ref('aws_sqs_queue.shards.arn')],
    })
    expect(bySid('AsyncFailureDestination').resources).toEqual([ref('aws_sqs_queue.schedule_dlq.arn')])
    const consume = bySid('ConsumeShards')
    expect([...(consume.actions as string[])].sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ])
    expect(consume.resources).toEqual([ref('aws_sqs_queue.shards.arn')])
    expect(resource(mod, 'aws_iam_role_policy', 'run_queues').role).toBe(
      ref('aws_iam_role.function["run"].id'),
    )
    expect(resource(mod, 'aws_iam_role_policy', 'worker_queue').role).toBe(
      ref('aws_iam_role.function["worker"].id'),
    )
  })

  it('no resource is "*" or a wildcard pattern, except the EC2 network-interface actions of a VPC', () => {
    const reference =
      /^\$\{(aws_[a-z0-9_]+\.[a-z0-9_]+(\[[^\]]+\])?\.arn|var\.[a-z_]+|statement\.value)\}(\/index\/metric-severity-index)?$/
    for (const s of statements()) {
      for (const r of (s.resources ?? []) as string[]) {
        if (s.sid === 'VpcNetworkInterfaces') continue
        const logStreams = s.sid === 'OwnLogGroup' && r === LOG_STREAMS
        expect(logStreams || reference.test(r), `${s.doc} ${String(s.sid)}: ${r}`).toBe(true)
      }
    }
    const eni = bySid('VpcNetworkInterfaces')
    expect(eni.resources).toEqual(['*'])
    expect((eni.actions as string[]).every((a) => a.startsWith('ec2:'))).toBe(true)
    expect(resource(mod, 'aws_iam_role_policy', 'vpc_network_interfaces').for_each).toBe(
      ref('local.vpc_enabled ? local.functions : {}'),
    )
  })

  it('no managed policy (AWSLambdaBasicExecutionRole), no CreateLogGroup, no PutMetricData, one role per function', () => {
    expect(mod.resources.aws_iam_role_policy_attachment).toBeUndefined()
    expect(mod.resources.aws_iam_policy).toBeUndefined()
    const actions = statements().flatMap((s) => (s.actions ?? []) as string[])
    expect(actions).not.toContain('logs:CreateLogGroup')
    expect(actions).not.toContain('cloudwatch:PutMetricData')
    expect(actions.some((a) => a.includes('*'))).toBe(false)
    expect(resource(mod, 'aws_iam_role', 'function').for_each).toBe(ref('local.functions'))
  })
})

describe('alarms', () => {
  const alarm = (name: string) => resource(mod, 'aws_cloudwatch_metric_alarm', name)

  it('every alarm notifies the ops topic on ALARM and OK', () => {
    expect(local(mod, 'alarm_actions')).toEqual([ref('aws_sns_topic.ops.arn')])
    const alarms = Object.entries(mod.resources.aws_cloudwatch_metric_alarm ?? {})
    expect(alarms.map(([name]) => name).sort()).toEqual([
      'anomalies_per_hour',
      'dead_letter_queue_depth',
      'dynamodb_throttles',
      'function_duration',
      'function_errors',
      'no_successful_run',
    ])
    for (const [name, block] of alarms) {
      expect(block.alarm_actions, name).toBe(ref('local.alarm_actions'))
      expect(block.ok_actions, name).toBe(ref('local.alarm_actions'))
      expect(block.alarm_name, name).toMatch(/^\$\{var\.name\}-/)
    }
  })

  it('Lambda errors > 0 in 5 minutes, for both functions', () => {
    expect(alarm('function_errors')).toMatchObject({
      for_each: ref('local.functions'),
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: ref('aws_lambda_function.this[each.key].function_name') },
      statistic: 'Sum',
      period: 300,
      evaluation_periods: 1,
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    })
  })

  it('duration (Maximum) over 240000 ms', () => {
    expect(alarm('function_duration')).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'Duration',
      statistic: 'Maximum',
      threshold: ref('each.value.duration_alarm_ms'),
      comparison_operator: 'GreaterThanThreshold',
    })
    const run = (local(mod, 'functions') as Record<string, Block>).run as Block
    expect(resolve(mod, run.duration_alarm_ms)).toBe(240000)
  })

  it('anomalies per hour > 50 on the code’s metric and dimension', () => {
    expect(alarm('anomalies_per_hour')).toMatchObject({
      namespace: ref('var.metrics_namespace'),
      metric_name: EMF_METRIC.anomaliesFound,
      dimensions: { service: ref('local.metrics_service') },
      statistic: 'Sum',
      period: 3600,
      threshold: ref('var.anomalies_per_hour_alarm_threshold'),
      comparison_operator: 'GreaterThanThreshold',
    })
    expect(EMF_METRIC.anomaliesFound).toBe('AnomaliesFound')
    expect(variable(mod, 'anomalies_per_hour_alarm_threshold').default).toBe(50)
  })

  it('DynamoDB throttles > 0: read + write throttle events of the table and its GSI', () => {
    const throttles = alarm('dynamodb_throttles')
    expect(throttles).toMatchObject({ threshold: 0, comparison_operator: 'GreaterThanThreshold' })
    const [expression] = nestedAll(throttles, 'metric_query').filter((q) => q.content.return_data === true)
    expect(expression?.content.expression).toBe(
      'FILL(table_reads, 0) + FILL(table_writes, 0) + FILL(index_reads, 0) + FILL(index_writes, 0)',
    )
    const inputs = nestedAll(throttles, 'metric_query').find((q) => q.forEach)
    const table = { TableName: ref('aws_dynamodb_table.anomalies.name') }
    const index = { ...table, GlobalSecondaryIndexName: 'metric-severity-index' }
    expect(inputs?.forEach).toEqual({
      table_reads: { metric: 'ReadThrottleEvents', dimensions: table },
      table_writes: { metric: 'WriteThrottleEvents', dimensions: table },
      index_reads: { metric: 'ReadThrottleEvents', dimensions: index },
      index_writes: { metric: 'WriteThrottleEvents', dimensions: index },
    })
    expect(inputs?.content.id).toBe(ref('metric_query.key'))
    expect(nested(inputs?.content as Block, 'metric')).toMatchObject({
      namespace: 'AWS/DynamoDB',
      stat: 'Sum',
    })
  })

  it('both DLQs alarm on any visible message', () => {
    expect(alarm('dead_letter_queue_depth')).toMatchObject({
      for_each: ref('local.dead_letter_queues'),
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: ref('each.value.queue_name') },
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    })
    const queues = local(mod, 'dead_letter_queues') as Record<string, Block>
    expect(queues.schedule?.queue_name).toBe(ref('aws_sqs_queue.schedule_dlq.name'))
    expect(queues.shards?.queue_name).toBe(ref('aws_sqs_queue.shard_dlq.name'))
  })

  it('no successful run in 2 hours, missing data breaching', () => {
    expect(alarm('no_successful_run')).toMatchObject({
      namespace: ref('var.metrics_namespace'),
      metric_name: EMF_METRIC.runsCompleted,
      dimensions: { service: ref('local.metrics_service') },
      statistic: 'Sum',
      period: 3600,
      evaluation_periods: 2,
      threshold: 1,
      comparison_operator: 'LessThanThreshold',
      treat_missing_data: 'breaching',
    })
    expect(EMF_METRIC.runsCompleted).toBe('RunsCompleted')
  })
})

describe('outputs and tags', () => {
  it('outputs the table, topics, queues, functions and rule', () => {
    const expected: Record<string, string> = {
      table_name: 'aws_dynamodb_table.anomalies.name',
      table_arn: 'aws_dynamodb_table.anomalies.arn',
      alerts_topic_arn: 'aws_sns_topic.alerts.arn',
      ops_topic_arn: 'aws_sns_topic.ops.arn',
      shard_queue_url: 'aws_sqs_queue.shards.url',
      shard_dlq_url: 'aws_sqs_queue.shard_dlq.url',
      schedule_dlq_url: 'aws_sqs_queue.schedule_dlq.url',
      run_function_name: 'aws_lambda_function.this["run"].function_name',
      run_function_arn: 'aws_lambda_function.this["run"].arn',
      worker_function_name: 'aws_lambda_function.this["worker"].function_name',
      worker_function_arn: 'aws_lambda_function.this["worker"].arn',
      schedule_rule_name: 'aws_cloudwatch_event_rule.schedule.name',
    }
    for (const [name, value] of Object.entries(expected)) {
      expect(mod.outputs[name]?.value, name).toBe(ref(value))
      expect(mod.outputs[name]?.description, name).toBeTruthy()
    }
    for (const [name, output] of Object.entries(example.outputs)) {
      expect(output.value, name).toBe(ref(`module.meterflow.${name}`))
    }
  })

  it('every taggable resource carries var.tags', () => {
    const taggable = [
      'aws_lambda_function',
      'aws_iam_role',
      'aws_cloudwatch_log_group',
      'aws_sqs_queue',
      'aws_cloudwatch_event_rule',
      'aws_dynamodb_table',
      'aws_sns_topic',
      'aws_cloudwatch_metric_alarm',
    ]
    let count = 0
    for (const type of taggable) {
      for (const [name, block] of Object.entries(mod.resources[type] ?? {})) {
        expect(block.tags, `${type}.${name}`).toBe(ref('var.tags'))
        count++
      }
    }
    expect(count).toBeGreaterThanOrEqual(16)
  })
})

describe('docs/deploy.md', () => {
  it('lists every variable of the module with its default, and every output', () => {
    const doc = readFileSync('docs/deploy.md', 'utf8')
    for (const [name, v] of Object.entries(mod.variables)) {
      const row = doc.split('\n').find((line) => new RegExp(`^\\| \`${name}\` +\\|`).test(line))
      expect(row, name).toBeDefined()
      const cell = row?.split('|')[2]?.trim()
      const expected =
        v.default === undefined
          ? 'required'
          : v.default === null
            ? 'null'
            : `\`${typeof v.default === 'string' ? v.default : JSON.stringify(v.default)}\``
      expect(cell, name).toBe(expected)
    }
    for (const name of Object.keys(mod.outputs)) expect(doc, name).toContain(`\`${name}\``)
  })
})

// ---- The terraform CLI, where there is one --------------------------------------------------------------------

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

const TERRAFORM = onPath('terraform')
/** A local provider mirror (`terraform init -plugin-dir`): with no network, init can install providers only from one. */
const PLUGIN_DIR = process.env.METERFLOW_TF_PLUGIN_DIR ?? '/opt/tf-plugins'
const HAS_AWS_PROVIDER = existsSync(join(PLUGIN_DIR, 'registry.terraform.io/hashicorp/aws'))
const run = promisify(execFile)

async function terraform(cwd: string, ...args: string[]) {
  if (!TERRAFORM) throw new Error('no terraform')
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' }
  try {
    return await run(TERRAFORM, [...args, '-no-color'], { cwd, env, maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `terraform ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`,
    )
  }
}

describe('terraform CLI', () => {
  let work: string | undefined
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('fmt -check -recursive finds nothing to change', async (ctx) => {
    ctx.skip(!TERRAFORM, 'skipped: no terraform binary on PATH')
    await terraform(ROOT, 'fmt', '-check', '-recursive', '-diff')
  })

  it('validate (example) and the module’s `terraform test` plans pass', { timeout: 300_000 }, async (ctx) => {
    ctx.skip(!TERRAFORM, 'skipped: no terraform binary on PATH')
    ctx.skip(!HAS_AWS_PROVIDER, `skipped: no AWS provider under ${PLUGIN_DIR} (set METERFLOW_TF_PLUGIN_DIR)`)
    // A copy, so init's .terraform folders and lock files stay out of the work tree.
    work = mkdtempSync(join(tmpdir(), 'meterflow-tf-'))
    cpSync(ROOT, join(work, 'terraform'), { recursive: true })
    const zip = join(work, 'meterflow-lambda.zip')
    writeFileSync(zip, 'not a real bundle: plans never read it')
    const init = ['init', '-backend=false', '-input=false', `-plugin-dir=${PLUGIN_DIR}`]

    const exampleDir = join(work, 'terraform/examples/basic')
    await terraform(exampleDir, ...init)
    await terraform(exampleDir, 'validate')

    const moduleDir = join(work, 'terraform/modules/meterflow')
    await terraform(moduleDir, ...init)
    const runs = readFileSync(join(moduleDir, 'tests/plan.tftest.hcl'), 'utf8').match(/^run "/gm)?.length ?? 0
    expect(runs).toBeGreaterThanOrEqual(10)
    const { stdout } = await terraform(moduleDir, 'test', `-var=lambda_zip_path=${zip}`)
    expect(stdout).toContain(`Success! ${runs} passed, 0 failed.`)
  })
})
