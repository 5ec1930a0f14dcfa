# Two topics: alerts (the code publishes anomaly alerts, ALERT_TOPIC_ARN) and ops (the CloudWatch alarms).

resource "aws_sns_topic" "alerts" {
  name = "${var.name}-alerts"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "alerts_email" {
  for_each = toset(var.alert_email_addresses)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "alerts_https" {
  for_each = toset(var.alert_https_endpoints)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "https"
  endpoint  = each.value
}

resource "aws_sns_topic" "ops" {
  name = "${var.name}-ops"
  tags = var.tags
}

data "aws_iam_policy_document" "ops_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ops.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    # Only this stack's alarms (alarms.tf names them all "<name>-...").
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"]
    }
  }
}

resource "aws_sns_topic_policy" "ops" {
  arn    = aws_sns_topic.ops.arn
  policy = data.aws_iam_policy_document.ops_topic.json
}

resource "aws_sns_topic_subscription" "ops_email" {
  for_each = toset(var.ops_email_addresses)

  topic_arn = aws_sns_topic.ops.arn
  protocol  = "email"
  endpoint  = each.value
}
