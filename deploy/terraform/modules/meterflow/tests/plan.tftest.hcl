# `terraform test` for the module: plans with the real AWS provider and no AWS account (fake credentials, the
# account id overridden), so it runs offline. test/terraform.test.ts runs it with -var lambda_zip_path=<a zip>
# when terraform and the AWS provider are available.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = {
    account_id = "123456789012"
  }
}

# Known ARNs at plan time, so the environment can be checked below. (IAM policy documents that depend on resources
# are still only read at apply; test/terraform.test.ts checks their statements in the source.)
override_resource {
  target          = aws_dynamodb_table.anomalies
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/meterflow-anomalies"
  }
}

override_resource {
  target          = aws_sns_topic.alerts
  override_during = plan
  values = {
    arn = "arn:aws:sns:eu-west-1:123456789012:meterflow-alerts"
  }
}

override_resource {
  target          = aws_sqs_queue.shards
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:meterflow-shards"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/meterflow-shards"
  }
}

override_resource {
  target          = aws_sqs_queue.shard_dlq
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:meterflow-shards-dlq"
  }
}

override_resource {
  target          = aws_sqs_queue.schedule_dlq
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:meterflow-schedule-dlq"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.function
  override_during = plan
  values = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/meterflow-fn"
  }
}

variables {
  clickhouse_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:meterflow/clickhouse-AbCdEf"
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this["run"].runtime == "nodejs22.x" && aws_lambda_function.this["worker"].runtime == "nodejs22.x"
    error_message = "both functions default to nodejs22.x"
  }

  assert {
    condition     = aws_lambda_function.this["run"].handler == "index.handler" && aws_lambda_function.this["worker"].handler == "index.worker"
    error_message = "handlers are index.handler (run) and index.worker (worker)"
  }

  assert {
    condition     = aws_lambda_function.this["run"].memory_size == 512 && aws_lambda_function.this["run"].timeout == 300
    error_message = "the run function defaults to 512 MB and 300 s"
  }

  assert {
    condition     = aws_lambda_function.this["worker"].memory_size == 512 && aws_lambda_function.this["worker"].timeout == 300
    error_message = "the worker defaults to 512 MB and 300 s"
  }

  assert {
    condition     = aws_dynamodb_table.anomalies.name == "meterflow-anomalies"
    error_message = "the default table is the design's meterflow-anomalies"
  }

  assert {
    condition     = aws_sqs_queue.shards.visibility_timeout_seconds == 1800
    error_message = "the shard queue's visibility timeout is 6 x the worker's 300 s"
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.shards.redrive_policy).maxReceiveCount == 3
    error_message = "a shard goes to the DLQ after 3 deliveries"
  }

  assert {
    condition = toset(keys(local.environment)) == toset([
      "METERFLOW_ANOMALY_STORE", "METERFLOW_DYNAMODB_TABLE", "METERFLOW_CLICKHOUSE_SECRET_ARN", "ALERT_TOPIC_ARN",
      "METERFLOW_JOB_SHARDS", "METERFLOW_SHARD_QUEUE_URL", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
      "POWERTOOLS_LOG_LEVEL", "METERFLOW_LOG_LEVEL", "NODE_OPTIONS",
    ])
    error_message = "the environment holds exactly the module's settings, unset optional ones left out"
  }

  assert {
    condition     = local.environment.METERFLOW_ANOMALY_STORE == "dynamodb" && local.environment.METERFLOW_JOB_SHARDS == "1" && local.environment.POWERTOOLS_SERVICE_NAME == "meterflow" && local.environment.POWERTOOLS_METRICS_NAMESPACE == "MeterFlow" && local.environment.POWERTOOLS_LOG_LEVEL == "INFO" && local.environment.METERFLOW_LOG_LEVEL == "info"
    error_message = "environment values"
  }

  assert {
    condition     = length(aws_iam_role_policy.vpc_network_interfaces) == 0 && length(aws_lambda_function.this["run"].vpc_config) == 0
    error_message = "no VPC and no ENI permissions unless subnets are given"
  }

  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.vpc_network_interfaces.json).Statement : s if s.Resource == "*"]) == 1
    error_message = "the ENI statement is the one with Resource *"
  }

  assert {
    condition     = local.environment.ALERT_TOPIC_ARN == "arn:aws:sns:eu-west-1:123456789012:meterflow-alerts" && local.environment.METERFLOW_SHARD_QUEUE_URL == "https://sqs.eu-west-1.amazonaws.com/123456789012/meterflow-shards" && local.environment.METERFLOW_DYNAMODB_TABLE == "meterflow-anomalies"
    error_message = "the environment points at this stack's topic, queue and table"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "rate(1 hour)" && aws_cloudwatch_event_rule.schedule.state == "ENABLED"
    error_message = "hourly schedule, enabled"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.function_duration["run"].threshold == 240000
    error_message = "the run's duration alarm is at 4 minutes"
  }
}

run "vpc_and_extras" {
  command = plan

  variables {
    vpc_subnet_ids                     = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids             = ["sg-0123456789abcdef0"]
    secrets_kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    clickhouse_url                     = "https://abc.eu-west-1.aws.clickhouse.cloud:8443"
    extra_environment                  = { METERFLOW_SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T/B/x" }
    job_shards                         = 8
    log_level                          = "CRITICAL"
    worker_timeout_seconds             = 120
    worker_maximum_concurrency         = 4
    worker_duration_alarm_threshold_ms = 100000
  }

  assert {
    condition     = length(aws_iam_role_policy.vpc_network_interfaces) == 2 && length(aws_lambda_function.this["worker"].vpc_config) == 1
    error_message = "with subnets, both functions join the VPC and get the ENI permissions"
  }

  assert {
    condition     = nonsensitive(local.environment.METERFLOW_SLACK_WEBHOOK_URL) == "https://hooks.slack.com/services/T/B/x" && local.environment.METERFLOW_CLICKHOUSE_URL == "https://abc.eu-west-1.aws.clickhouse.cloud:8443" && local.environment.METERFLOW_JOB_SHARDS == "8" && local.environment.METERFLOW_LOG_LEVEL == "fatal"
    error_message = "extra and optional settings reach the environment"
  }

  assert {
    condition     = aws_sqs_queue.shards.visibility_timeout_seconds == 720
    error_message = "the visibility timeout follows the worker's timeout"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.shards.scaling_config[0].maximum_concurrency == 4
    error_message = "maximum concurrency reaches the event source mapping"
  }
}

run "rejects_nodejs20" {
  command = plan
  variables { runtime = "nodejs20.x" }
  expect_failures = [var.runtime]
}

run "rejects_memory_out_of_range" {
  command = plan
  variables { run_memory_mb = 64 }
  expect_failures = [var.run_memory_mb]
}

run "rejects_timeout_over_15_minutes" {
  command = plan
  variables { worker_timeout_seconds = 901 }
  expect_failures = [var.worker_timeout_seconds]
}

run "rejects_unknown_log_level" {
  command = plan
  variables { log_level = "VERBOSE" }
  expect_failures = [var.log_level]
}

run "rejects_bad_schedule" {
  command = plan
  variables { schedule_expression = "rate(1 hours)" }
  expect_failures = [var.schedule_expression]
}

run "rejects_managed_environment_names" {
  command = plan
  variables { extra_environment = { METERFLOW_ANOMALY_STORE = "sqlite" } }
  expect_failures = [var.extra_environment]
}

run "rejects_reserved_environment_names" {
  command = plan
  variables { extra_environment = { AWS_REGION = "us-east-1" } }
  expect_failures = [var.extra_environment]
}

run "rejects_half_a_vpc" {
  command = plan
  variables { vpc_subnet_ids = ["subnet-0123456789abcdef0"] }
  expect_failures = [var.vpc_subnet_ids]
}

run "rejects_no_clickhouse" {
  command = plan
  variables { clickhouse_secret_arn = null }
  expect_failures = [var.clickhouse_secret_arn]
}

run "rejects_visibility_not_above_timeout" {
  command = plan
  variables { shard_visibility_timeout_seconds = 300 }
  expect_failures = [var.shard_visibility_timeout_seconds]
}
