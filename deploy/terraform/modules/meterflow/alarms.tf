# CloudWatch alarms, all to the ops topic (alarm and OK). The design's four (errors, duration, anomalies per hour,
# DynamoDB throttles) plus dead-letter queue depth and "no successful run", which it lacks.

locals {
  alarm_actions = [aws_sns_topic.ops.arn]

  # The DLQs that alarm when anything lands in them.
  dead_letter_queues = {
    schedule = {
      queue_name  = aws_sqs_queue.schedule_dlq.name
      description = "A scheduled run was lost: EventBridge could not invoke the run function, or it failed after Lambda's retries. Run the slot again (POST /v1/runs) and drain the queue."
    }
    shards = {
      queue_name  = aws_sqs_queue.shard_dlq.name
      description = "A shard failed on every delivery: its customers were not checked for that slot. Read the worker's logs, fix, then redrive the shard DLQ."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.functions

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "${each.value.function_name} failed (an error or a timeout) in the last 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_duration" {
  for_each = local.functions

  alarm_name          = "${var.name}-${each.key}-duration"
  alarm_description   = "${each.value.duration_alarm_label} took over ${each.value.duration_alarm_ms} ms of its ${each.value.timeout_seconds} s: review the customer count, raise job_shards."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.duration_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "anomalies_per_hour" {
  alarm_name          = "${var.name}-anomalies-per-hour"
  alarm_description   = "Over ${var.anomalies_per_hour_alarm_threshold} anomalies found in one hour: more likely a system issue (ingest gap, bad deploy) than customers."
  namespace           = var.metrics_namespace
  metric_name         = "AnomaliesFound"
  dimensions          = { service = local.metrics_service }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = var.anomalies_per_hour_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# ThrottledRequests needs an Operation dimension (one alarm per operation); Read/WriteThrottleEvents cover every
# operation, and their table-level series leave out the GSI, so the alarm adds all four.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${var.name}-dynamodb-throttles"
  alarm_description   = "DynamoDB throttled requests on ${aws_dynamodb_table.anomalies.name} or its index in the last 5 minutes (on-demand: a burst past twice the previous peak, or a hot partition)."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "throttles"
    expression  = "FILL(table_reads, 0) + FILL(table_writes, 0) + FILL(index_reads, 0) + FILL(index_writes, 0)"
    label       = "Throttle events (table and index)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = {
      table_reads  = { metric = "ReadThrottleEvents", dimensions = { TableName = aws_dynamodb_table.anomalies.name } }
      table_writes = { metric = "WriteThrottleEvents", dimensions = { TableName = aws_dynamodb_table.anomalies.name } }
      index_reads  = { metric = "ReadThrottleEvents", dimensions = { TableName = aws_dynamodb_table.anomalies.name, GlobalSecondaryIndexName = "metric-severity-index" } }
      index_writes = { metric = "WriteThrottleEvents", dimensions = { TableName = aws_dynamodb_table.anomalies.name, GlobalSecondaryIndexName = "metric-severity-index" } }
    }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value.metric
        dimensions  = metric_query.value.dimensions
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_queue_depth" {
  for_each = local.dead_letter_queues

  alarm_name          = "${var.name}-${each.key}-dlq-depth"
  alarm_description   = each.value.description
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Every run emits RunsCompleted (1 or 0), so a healthy hourly schedule sums to at least 1 per hour. Two empty or
# zero hours in a row: the schedule is off, every run fails, or the function cannot start. Missing data is
# breaching: silence is exactly what this alarm is for.
resource "aws_cloudwatch_metric_alarm" "no_successful_run" {
  alarm_name          = "${var.name}-no-successful-run"
  alarm_description   = "No MeterFlow run completed in the last 2 hours."
  namespace           = var.metrics_namespace
  metric_name         = "RunsCompleted"
  dimensions          = { service = local.metrics_service }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
