output "table_name" {
  description = "DynamoDB anomaly table."
  value       = module.meterflow.table_name
}

output "alerts_topic_arn" {
  description = "SNS topic of the alerts."
  value       = module.meterflow.alerts_topic_arn
}

output "ops_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.meterflow.ops_topic_arn
}

output "run_function_name" {
  description = "The scheduled run function (invoke it by hand to test a slot)."
  value       = module.meterflow.run_function_name
}

output "worker_function_name" {
  description = "The shard worker function."
  value       = module.meterflow.worker_function_name
}

output "shard_queue_url" {
  description = "The shard queue."
  value       = module.meterflow.shard_queue_url
}

output "schedule_dlq_url" {
  description = "Dead-letter queue of the scheduled runs."
  value       = module.meterflow.schedule_dlq_url
}

output "shard_dlq_url" {
  description = "Dead-letter queue of the shards."
  value       = module.meterflow.shard_dlq_url
}

output "schedule_rule_name" {
  description = "The EventBridge rule."
  value       = module.meterflow.schedule_rule_name
}
