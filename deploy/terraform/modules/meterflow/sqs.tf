# The shard queue: the run function sends one message per shard of a slot; the worker evaluates each. A message
# that fails shard_max_receive_count times moves to the shard DLQ (and alarms).

locals {
  # AWS's recommendation for a queue that triggers Lambda: six times the function's timeout, so a message is not
  # delivered again while an invocation (or the event source mapping's retries of a throttled one) still holds it.
  shard_visibility_timeout_seconds = coalesce(var.shard_visibility_timeout_seconds, 6 * var.worker_timeout_seconds)
}

resource "aws_sqs_queue" "shards" {
  name                       = "${var.name}-shards"
  visibility_timeout_seconds = local.shard_visibility_timeout_seconds
  message_retention_seconds  = 345600 # 4 days
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.shard_dlq.arn
    maxReceiveCount     = var.shard_max_receive_count
  })

  tags = var.tags
}

resource "aws_sqs_queue" "shard_dlq" {
  name                      = "${var.name}-shards-dlq"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum.
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

# Only the shard queue may use the shard DLQ as its dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "shard_dlq" {
  queue_url = aws_sqs_queue.shard_dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.shards.arn]
  })
}

resource "aws_lambda_event_source_mapping" "shards" {
  event_source_arn = aws_sqs_queue.shards.arn
  function_name    = aws_lambda_function.this["worker"].arn
  # A shard is a whole unit of work: one per invocation, so one slow or failing shard holds up no other.
  batch_size = 1
  # The worker reports a failed shard as a batch item failure instead of failing the invocation.
  function_response_types = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.worker_maximum_concurrency == null ? [] : [var.worker_maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  # The mapping polls with the worker's role, which must already allow it.
  depends_on = [aws_iam_role_policy.worker_queue]
}
