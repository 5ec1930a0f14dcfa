# The two functions: `run` (index.handler, the EventBridge target: runs a slot, or plans its shards) and
# `worker` (index.worker, the shard queue's consumer). One zip, one environment.

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  # Created here, not by Lambda on first write, so the retention applies and the roles need no logs:CreateLogGroup.
  name              = "/aws/lambda/${each.value.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = each.value.function_name
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  handler          = each.value.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout_seconds

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text" # Powertools Logger writes JSON lines itself.
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  dynamic "vpc_config" {
    for_each = local.vpc_enabled ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  # The role must be able to log (and, in a VPC, create its network interfaces) before the function starts.
  depends_on = [aws_iam_role_policy.logs, aws_iam_role_policy.vpc_network_interfaces]
}

# Lambda's asynchronous retries of the scheduled run: a run that failed (or stopped before its timeout) is tried
# again, and the slot's run record makes the retry complete it without duplicates. An event that still fails, or
# gets too old, lands in the schedule DLQ next to the events EventBridge could not deliver.
resource "aws_lambda_function_event_invoke_config" "run" {
  function_name                = aws_lambda_function.this["run"].function_name
  maximum_retry_attempts       = var.run_async_max_retry_attempts
  maximum_event_age_in_seconds = var.run_async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.schedule_dlq.arn
    }
  }

  # Lambda checks that the role may send to the destination.
  depends_on = [aws_iam_role_policy.run_queues]
}
