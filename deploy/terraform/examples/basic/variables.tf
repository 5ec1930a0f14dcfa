variable "region" {
  description = "AWS region to deploy to (the one nearest the ClickHouse Cloud service)."
  type        = string
  default     = "us-east-1"
}

variable "default_tags" {
  description = "Tags the AWS provider puts on every resource."
  type        = map(string)
  default = {
    Project   = "meterflow"
    ManagedBy = "terraform"
  }
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "meterflow"
}

variable "lambda_zip_path" {
  description = "The zip `npm run build:lambda` writes; relative paths are resolved from the directory terraform runs in (this one)."
  type        = string
  default     = "../../../../dist/lambda/meterflow-lambda.zip"
}

variable "clickhouse_secret_arn" {
  description = "ARN of the Secrets Manager secret {\"url\", \"username\", \"password\"} for ClickHouse Cloud."
  type        = string
  default     = null
}

variable "clickhouse_url" {
  description = "ClickHouse URL, when the secret does not hold it."
  type        = string
  default     = null
}

variable "secrets_kms_key_arn" {
  description = "Customer-managed KMS key of the secret, if any."
  type        = string
  default     = null
}

variable "vpc_subnet_ids" {
  description = "Subnets for private peering to ClickHouse Cloud (empty: no VPC)."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups for the functions in the VPC."
  type        = list(string)
  default     = []
}

variable "schedule_expression" {
  description = "EventBridge schedule of the runs."
  type        = string
  default     = "rate(1 hour)"
}

variable "job_shards" {
  description = "Shards per run (1: no sharding)."
  type        = number
  default     = 1
}

variable "alert_email_addresses" {
  description = "Email subscribers of the alerts topic."
  type        = list(string)
  default     = []
}

variable "alert_https_endpoints" {
  description = "HTTPS subscribers of the alerts topic."
  type        = list(string)
  default     = []
}

variable "ops_email_addresses" {
  description = "Email subscribers of the ops (alarm) topic."
  type        = list(string)
  default     = []
}

variable "public_url" {
  description = "Dashboard URL for links in alerts."
  type        = string
  default     = null
}

variable "extra_environment" {
  description = "More environment variables for the functions (e.g. METERFLOW_SLACK_WEBHOOK_URL)."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "deletion_protection" {
  description = "Deletion protection on the anomaly table."
  type        = bool
  default     = true
}
