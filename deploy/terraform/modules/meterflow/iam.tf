# One role per function, so the run function cannot consume shards and the worker cannot send them. Both may use
# the table and its index, publish to the alerts topic, read the ClickHouse secret, and write their own logs.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = "${each.value.function_name}-role"
  description        = "Execution role of ${each.value.function_name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

# ---- Shared by both functions ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "app" {
  statement {
    sid = "AnomalyTable"
    # What src/adapters/dynamodb sends at run time (test/terraform.test.ts derives the list from the code): no
    # Scan, no transactions. DescribeTable: the store checks the table exists when it opens.
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = [
      aws_dynamodb_table.anomalies.arn,
      "${aws_dynamodb_table.anomalies.arn}/index/metric-severity-index",
    ]
  }

  statement {
    sid       = "AlertsTopic"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  dynamic "statement" {
    for_each = var.clickhouse_secret_arn == null ? [] : [var.clickhouse_secret_arn]
    content {
      sid       = "ClickHouseSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "ClickHouseSecretKey"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      # Only to decrypt through Secrets Manager, not anything else under the same key.
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.secret_region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "app" {
  for_each = local.functions

  name   = "meterflow-app"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.app.json
}

# ---- Each function's own log group ----------------------------------------------------------------------------

data "aws_iam_policy_document" "logs" {
  for_each = local.functions

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "logs" {
  for_each = local.functions

  name   = "logs"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.logs[each.key].json
}

# ---- Queues ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "run_queues" {
  statement {
    sid = "SendShards"
    # SendMessageBatch is authorised by sqs:SendMessage.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.shards.arn]
  }

  statement {
    sid       = "AsyncFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
  }
}

resource "aws_iam_role_policy" "run_queues" {
  name   = "queues"
  role   = aws_iam_role.function["run"].id
  policy = data.aws_iam_policy_document.run_queues.json
}

data "aws_iam_policy_document" "worker_queue" {
  statement {
    sid = "ConsumeShards"
    # The event source mapping polls with the worker's role; ChangeMessageVisibility lets a worker shorten a
    # failed shard's wait before its next delivery.
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
    ]
    resources = [aws_sqs_queue.shards.arn]
  }
}

resource "aws_iam_role_policy" "worker_queue" {
  name   = "queue"
  role   = aws_iam_role.function["worker"].id
  policy = data.aws_iam_policy_document.worker_queue.json
}

# ---- VPC (only with vpc_subnet_ids) ---------------------------------------------------------------------------

data "aws_iam_policy_document" "vpc_network_interfaces" {
  statement {
    sid = "VpcNetworkInterfaces"
    # The actions of AWSLambdaVPCAccessExecutionRole without its logs:*. EC2 does not scope these by resource
    # (the Describe* calls cannot be), hence "*", the only such resource in the module.
    actions = [
      "ec2:AssignPrivateIpAddresses",
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "vpc_network_interfaces" {
  for_each = local.vpc_enabled ? local.functions : {}

  name   = "vpc-network-interfaces"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.vpc_network_interfaces.json
}
