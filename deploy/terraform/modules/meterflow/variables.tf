# ---- Naming and tags ------------------------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (functions, roles, queues, topics, rule, alarms). Two stacks in one account and region need different names."
  type        = string
  default     = "meterflow"

  validation {
    # The longest derived name, "<name>-shard-worker-role" (IAM roles allow 64 characters), stays within limits.
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 characters of lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource of the module (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# ---- Code -----------------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the deployment zip built by `npm run build:lambda` (dist/lambda/meterflow-lambda.zip); it holds both entry points, index.handler and index.worker."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip") && fileexists(var.lambda_zip_path)
    error_message = "lambda_zip_path must name an existing .zip file: run `npm run build:lambda` first (it writes dist/lambda/meterflow-lambda.zip)."
  }
}

variable "runtime" {
  description = "Lambda runtime of both functions. nodejs20.x is not offered: AWS deprecated it on 2026-04-30 and refuses to create functions with it since 2026-08-31."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = contains(["nodejs22.x", "nodejs24.x"], var.runtime)
    error_message = "runtime must be nodejs22.x or nodejs24.x."
  }
}

variable "architecture" {
  description = "Instruction set of both functions. arm64 (Graviton) costs about 20% less per GB-second than x86_64; the bundle is plain JavaScript with no native module, so it runs on either."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "run_memory_mb" {
  description = "Memory of the scheduled run function, in MB (CPU grows with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.run_memory_mb >= 128 && var.run_memory_mb <= 10240 && floor(var.run_memory_mb) == var.run_memory_mb
    error_message = "run_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "run_timeout_seconds" {
  description = "Timeout of the scheduled run function, in seconds. The code stops a run cleanly before it and records it as failed; a retry completes it."
  type        = number
  default     = 300

  validation {
    condition     = var.run_timeout_seconds >= 1 && var.run_timeout_seconds <= 900 && floor(var.run_timeout_seconds) == var.run_timeout_seconds
    error_message = "run_timeout_seconds must be a whole number from 1 to 900."
  }
}

variable "worker_memory_mb" {
  description = "Memory of the shard worker function, in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.worker_memory_mb >= 128 && var.worker_memory_mb <= 10240 && floor(var.worker_memory_mb) == var.worker_memory_mb
    error_message = "worker_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "worker_timeout_seconds" {
  description = "Timeout of the shard worker function, in seconds (the shard queue's visibility timeout follows it)."
  type        = number
  default     = 300

  validation {
    condition     = var.worker_timeout_seconds >= 1 && var.worker_timeout_seconds <= 900 && floor(var.worker_timeout_seconds) == var.worker_timeout_seconds
    error_message = "worker_timeout_seconds must be a whole number from 1 to 900."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps each function's logs (and the EMF metric lines in them)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_level" {
  description = "Log level of both functions: POWERTOOLS_LOG_LEVEL, and the same level as METERFLOW_LOG_LEVEL (CRITICAL is fatal there), which the code applies once its config is loaded."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(keys(local.meterflow_log_levels), var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of MeterFlow's metrics (POWERTOOLS_METRICS_NAMESPACE) and of the alarms on them. Give a second stack in the same account and region its own."
  type        = string
  default     = "MeterFlow"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : - and must not start with AWS/."
  }
}

variable "extra_environment" {
  description = "More environment variables for both functions, e.g. METERFLOW_SLACK_WEBHOOK_URL or METERFLOW_THRESHOLD. The names the module sets itself and Lambda's reserved names are refused."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for key in keys(var.extra_environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", key))])
    error_message = "extra_environment names must start with a letter and hold only letters, digits and underscores."
  }

  validation {
    condition = length(setintersection(keys(var.extra_environment), concat(local.managed_environment_names, [
      "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
      "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
      "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ]))) == 0
    error_message = "extra_environment must not set a variable the module manages (use its own variable) or one of Lambda's reserved names (AWS_REGION, AWS_LAMBDA_*, credentials, LAMBDA_TASK_ROOT, ...)."
  }
}

# ---- ClickHouse -----------------------------------------------------------------------------------------------

variable "clickhouse_url" {
  description = "METERFLOW_CLICKHOUSE_URL, e.g. https://abc123.eu-west-1.aws.clickhouse.cloud:8443. Optional when the secret holds the URL."
  type        = string
  default     = null

  validation {
    condition     = var.clickhouse_url == null ? true : can(regex("^https?://[^/@\\s]+", var.clickhouse_url))
    error_message = "clickhouse_url must be an http(s) URL without credentials (put the user and password in the secret)."
  }
}

variable "clickhouse_secret_arn" {
  description = "ARN of a Secrets Manager secret holding JSON {\"url\", \"username\", \"password\"} for ClickHouse (METERFLOW_CLICKHOUSE_SECRET_ARN). The functions may read this secret and no other."
  type        = string
  default     = null

  validation {
    condition     = var.clickhouse_secret_arn == null ? true : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.clickhouse_secret_arn))
    error_message = "clickhouse_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }

  validation {
    # Without either the code would fall back to the embedded engine, which the Lambda bundle does not contain.
    condition     = var.clickhouse_secret_arn != null || var.clickhouse_url != null
    error_message = "Set clickhouse_secret_arn (recommended) or clickhouse_url: the functions need a ClickHouse server."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the ClickHouse secret; null when the secret uses the AWS-managed key aws/secretsmanager (no kms permission needed then)."
  type        = string
  default     = null

  validation {
    condition     = var.secrets_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets for both functions when ClickHouse Cloud is reached over private peering / PrivateLink; empty: no VPC. In a VPC the functions need a NAT gateway or VPC endpoints for DynamoDB, SNS, SQS and Secrets Manager."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "vpc_subnet_ids must be subnet ids (subnet-...)."
  }

  validation {
    condition     = (length(var.vpc_subnet_ids) == 0) == (length(var.vpc_security_group_ids) == 0)
    error_message = "vpc_subnet_ids and vpc_security_group_ids go together: set both or neither."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of both functions in the VPC (they must allow outbound HTTPS to ClickHouse and the AWS endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "vpc_security_group_ids must be security group ids (sg-...)."
  }
}

variable "public_url" {
  description = "METERFLOW_PUBLIC_URL: where the dashboard is served, for links in alerts. Optional."
  type        = string
  default     = null

  validation {
    condition     = var.public_url == null ? true : can(regex("^https?://", var.public_url))
    error_message = "public_url must be an http(s) URL."
  }
}
