# The design's anomaly table, as src/adapters/dynamodb/table.ts defines it (anomalyTableDefinition): the seed's
# keys for anomalies, other entities under partition keys that cannot collide with CUSTOMER#..., one GSI.

resource "aws_dynamodb_table" "anomalies" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "metric"
    type = "S"
  }

  attribute {
    name = "detected_at"
    type = "N"
  }

  # "All bandwidth anomalies in the last week". Only anomaly items carry both metric and detected_at.
  global_secondary_index {
    name            = "metric-severity-index"
    hash_key        = "metric"
    range_key       = "detected_at"
    projection_type = "ALL"
  }

  # Anomalies expire 90 days after detection (the code writes ttl in epoch seconds).
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}
