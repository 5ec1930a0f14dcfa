# EventBridge -> the run function. Both ways a scheduled slot can be lost end in the schedule DLQ: EventBridge
# could not invoke the function (after its retry policy), or the function failed after Lambda's asynchronous
# retries (lambda.tf). Either way the remedy is the same, run the slot again (`POST /v1/runs`), so one queue
# and one alarm serve both; the message shape tells them apart.

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${var.name}-anomaly-detection"
  description         = "Run MeterFlow anomaly detection (${var.schedule_expression})"
  schedule_expression = var.schedule_expression
  state               = var.schedule_enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "run" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "AnomalyDetectionLambda"
  arn       = aws_lambda_function.this["run"].arn

  retry_policy {
    maximum_event_age_in_seconds = var.schedule_retry_max_event_age_seconds
    maximum_retry_attempts       = var.schedule_retry_max_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.schedule_dlq.arn
  }
}

resource "aws_lambda_permission" "allow_eventbridge" {
  statement_id  = "AllowExecutionFromEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["run"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule.arn
}

resource "aws_sqs_queue" "schedule_dlq" {
  name                      = "${var.name}-schedule-dlq"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at what failed.
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

data "aws_iam_policy_document" "schedule_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.schedule.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "schedule_dlq" {
  queue_url = aws_sqs_queue.schedule_dlq.id
  policy    = data.aws_iam_policy_document.schedule_dlq.json
}
