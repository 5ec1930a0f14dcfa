output "table_name" {
  description = "Name of the DynamoDB anomaly table (METERFLOW_DYNAMODB_TABLE)."
  value       = aws_dynamodb_table.anomalies.name
}

output "table_arn" {
  description = "ARN of the DynamoDB anomaly table."
  value       = aws_dynamodb_table.anomalies.arn
}

output "alerts_topic_arn" {
  description = "ARN of the SNS topic the code publishes alerts to (ALERT_TOPIC_ARN); subscribe Slack, PagerDuty or email to it."
  value       = aws_sns_topic.alerts.arn
}

output "ops_topic_arn" {
  description = "ARN of the SNS topic the CloudWatch alarms notify."
  value       = aws_sns_topic.ops.arn
}

output "shard_queue_url" {
  description = "URL of the shard queue (METERFLOW_SHARD_QUEUE_URL)."
  value       = aws_sqs_queue.shards.url
}

output "shard_dlq_url" {
  description = "URL of the shard dead-letter queue (shards that failed every delivery)."
  value       = aws_sqs_queue.shard_dlq.url
}

output "schedule_dlq_url" {
  description = "URL of the schedule dead-letter queue (scheduled runs EventBridge could not deliver or that failed after Lambda's retries)."
  value       = aws_sqs_queue.schedule_dlq.url
}

output "run_function_name" {
  description = "Name of the scheduled run function (index.handler)."
  value       = aws_lambda_function.this["run"].function_name
}

output "run_function_arn" {
  description = "ARN of the scheduled run function."
  value       = aws_lambda_function.this["run"].arn
}

output "worker_function_name" {
  description = "Name of the shard worker function (index.worker)."
  value       = aws_lambda_function.this["worker"].function_name
}

output "worker_function_arn" {
  description = "ARN of the shard worker function."
  value       = aws_lambda_function.this["worker"].arn
}

output "schedule_rule_name" {
  description = "Name of the EventBridge rule that triggers the runs."
  value       = aws_cloudwatch_event_rule.schedule.name
}

output "log_group_names" {
  description = "CloudWatch log groups of the functions, by function (run, worker)."
  value       = { for key, group in aws_cloudwatch_log_group.function : key => group.name }
}
