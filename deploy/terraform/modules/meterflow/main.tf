# MeterFlow on AWS: EventBridge -> the run function (coordinator) -> SQS shards -> the worker function, with
# ClickHouse for usage, DynamoDB for anomalies, SNS for alerts and CloudWatch alarms on an ops topic.
# Resources are split by concern: lambda.tf, iam.tf, schedule.tf, sqs.tf, dynamodb.tf, sns.tf, alarms.tf.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  table_name = coalesce(var.table_name, "${var.name}-anomalies")

  # The `service` dimension of every MeterFlow metric: the code fixes it (src/adapters/powertools/telemetry.ts,
  # EMF_SERVICE), so it is not a variable. Stacks sharing an account and region differ by metrics_namespace.
  metrics_service = "meterflow"

  # The two functions share one zip, one environment and the same kind of role; they differ in entry point,
  # size and what they may do with the shard queue (iam.tf).
  functions = {
    run = {
      function_name        = "${var.name}-run"
      description          = "MeterFlow scheduled run: detects anomalies for one slot, or plans its shards"
      handler              = "index.handler"
      memory_mb            = var.run_memory_mb
      timeout_seconds      = var.run_timeout_seconds
      duration_alarm_ms    = var.run_duration_alarm_threshold_ms
      duration_alarm_label = "the scheduled run"
    }
    worker = {
      function_name        = "${var.name}-shard-worker"
      description          = "MeterFlow shard worker: evaluates one shard of a run from the shard queue"
      handler              = "index.worker"
      memory_mb            = var.worker_memory_mb
      timeout_seconds      = var.worker_timeout_seconds
      duration_alarm_ms    = var.worker_duration_alarm_threshold_ms
      duration_alarm_label = "a shard"
    }
  }

  vpc_enabled = length(var.vpc_subnet_ids) > 0

  # The secret's own region (its ARN's fourth field), which is the one its KMS key is used through.
  secret_region = var.clickhouse_secret_arn == null ? local.region : split(":", var.clickhouse_secret_arn)[3]

  # Powertools' level names -> the config's (METERFLOW_LOG_LEVEL).
  meterflow_log_levels = {
    TRACE    = "trace"
    DEBUG    = "debug"
    INFO     = "info"
    WARN     = "warn"
    ERROR    = "error"
    CRITICAL = "fatal"
    SILENT   = "silent"
  }

  # Settings that are only set when given (the code treats an unset variable as "not configured").
  optional_environment = {
    METERFLOW_CLICKHOUSE_URL        = var.clickhouse_url
    METERFLOW_CLICKHOUSE_SECRET_ARN = var.clickhouse_secret_arn
    METERFLOW_PUBLIC_URL            = var.public_url
  }
  # AWS_REGION is not here: Lambda sets it itself (and refuses a function that sets it).
  required_environment = {
    METERFLOW_ANOMALY_STORE      = "dynamodb"
    METERFLOW_DYNAMODB_TABLE     = aws_dynamodb_table.anomalies.name
    ALERT_TOPIC_ARN              = aws_sns_topic.alerts.arn
    METERFLOW_JOB_SHARDS         = tostring(var.job_shards)
    METERFLOW_SHARD_QUEUE_URL    = aws_sqs_queue.shards.url
    POWERTOOLS_SERVICE_NAME      = local.metrics_service
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = var.log_level
    # The code sets the logger's level from its own config once it is loaded (src/lambda/container.ts), so
    # POWERTOOLS_LOG_LEVEL alone would only hold until then.
    METERFLOW_LOG_LEVEL = local.meterflow_log_levels[var.log_level]
    # The bundle ships its source map: stack traces in the logs then name the TypeScript sources.
    NODE_OPTIONS = "--enable-source-maps"
  }
  # extra_environment may not set these (its validation refuses them), so the module's settings always hold.
  managed_environment_names = concat(keys(local.optional_environment), keys(local.required_environment))

  environment = merge(
    var.extra_environment,
    { for key, value in local.optional_environment : key => value if value != null },
    local.required_environment,
  )
}
