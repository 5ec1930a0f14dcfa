# ---- Schedule -------------------------------------------------------------------------------------------------

variable "schedule_expression" {
  description = "EventBridge schedule of the detection run, e.g. rate(1 hour) or cron(0 * * * ? *)."
  type        = string
  default     = "rate(1 hour)"

  validation {
    # AWS wants the singular unit for 1 and the plural otherwise; a cron() has six fields.
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$", var.schedule_expression)) && !can(regex("^rate\\(1 (minutes|hours|days)\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(<n> <unit>) (1 minute/hour/day, or n minutes/hours/days) or a six-field cron(...)."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule fires. false deploys everything with the rule disabled (e.g. to test by invoking the function by hand first)."
  type        = bool
  default     = true
}

variable "schedule_retry_max_event_age_seconds" {
  description = "How long EventBridge keeps retrying to invoke the run function before it sends the event to the schedule DLQ."
  type        = number
  default     = 3600

  validation {
    condition     = var.schedule_retry_max_event_age_seconds >= 60 && var.schedule_retry_max_event_age_seconds <= 86400
    error_message = "schedule_retry_max_event_age_seconds must be from 60 to 86400."
  }
}

variable "schedule_retry_max_attempts" {
  description = "How many times EventBridge retries invoking the run function before it sends the event to the schedule DLQ."
  type        = number
  default     = 10

  validation {
    condition     = var.schedule_retry_max_attempts >= 0 && var.schedule_retry_max_attempts <= 185 && floor(var.schedule_retry_max_attempts) == var.schedule_retry_max_attempts
    error_message = "schedule_retry_max_attempts must be a whole number from 0 to 185."
  }
}

variable "run_async_max_retry_attempts" {
  description = "Lambda's own retries of a failed run (asynchronous invocation). A run stopped short of its timeout is completed by a retry without duplicates."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.run_async_max_retry_attempts)
    error_message = "run_async_max_retry_attempts must be 0, 1 or 2."
  }
}

variable "run_async_max_event_age_seconds" {
  description = "How long Lambda keeps an asynchronous run event (queued or between retries) before it sends it to the schedule DLQ."
  type        = number
  default     = 3600

  validation {
    condition     = var.run_async_max_event_age_seconds >= 60 && var.run_async_max_event_age_seconds <= 21600
    error_message = "run_async_max_event_age_seconds must be from 60 to 21600."
  }
}

# ---- Shards ---------------------------------------------------------------------------------------------------

variable "job_shards" {
  description = "METERFLOW_JOB_SHARDS: 1 runs a slot inside the run function; more splits its customers into this many shards, one SQS message each, evaluated by the worker."
  type        = number
  default     = 1

  validation {
    condition     = var.job_shards >= 1 && var.job_shards <= 1000 && floor(var.job_shards) == var.job_shards
    error_message = "job_shards must be a whole number from 1 to 1000."
  }
}

variable "shard_max_receive_count" {
  description = "Deliveries of one shard message before SQS moves it to the shard DLQ."
  type        = number
  default     = 3

  validation {
    condition     = var.shard_max_receive_count >= 1 && var.shard_max_receive_count <= 1000 && floor(var.shard_max_receive_count) == var.shard_max_receive_count
    error_message = "shard_max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "shard_visibility_timeout_seconds" {
  description = "Visibility timeout of the shard queue; null: 6 x worker_timeout_seconds, as AWS recommends for queues that trigger Lambda. A failed shard is delivered again after it."
  type        = number
  default     = null

  validation {
    condition     = var.shard_visibility_timeout_seconds == null ? true : (var.shard_visibility_timeout_seconds > var.worker_timeout_seconds && var.shard_visibility_timeout_seconds <= 43200)
    error_message = "shard_visibility_timeout_seconds must exceed worker_timeout_seconds (or a shard still running is delivered again) and be at most 43200."
  }
}

variable "worker_maximum_concurrency" {
  description = "Most worker invocations the shard queue drives at once (ClickHouse's concurrent-query budget); null: no limit but the account's concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.worker_maximum_concurrency == null ? true : (var.worker_maximum_concurrency >= 2 && var.worker_maximum_concurrency <= 1000 && floor(var.worker_maximum_concurrency) == var.worker_maximum_concurrency)
    error_message = "worker_maximum_concurrency must be a whole number from 2 to 1000 (Lambda's limits), or null."
  }
}

# ---- Anomaly table --------------------------------------------------------------------------------------------

variable "table_name" {
  description = "Name of the DynamoDB anomaly table; null: <name>-anomalies (the design's meterflow-anomalies)."
  type        = string
  default     = null

  validation {
    condition     = var.table_name == null ? true : can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, _ . and -."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the anomaly table (set false, apply, then destroy, to remove it)."
  type        = bool
  default     = true
}

# ---- Alerts and alarms ----------------------------------------------------------------------------------------

variable "alert_email_addresses" {
  description = "Email subscriptions of the alerts topic (each address confirms by the link SNS sends)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alert_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alert_email_addresses must be email addresses."
  }
}

variable "alert_https_endpoints" {
  description = "HTTPS subscriptions of the alerts topic (e.g. a PagerDuty or chat integration URL); the endpoint must confirm the subscription."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for url in var.alert_https_endpoints : can(regex("^https://[^\\s]+$", url))])
    error_message = "alert_https_endpoints must be https:// URLs."
  }
}

variable "ops_email_addresses" {
  description = "Email subscriptions of the ops topic, which receives the CloudWatch alarms."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.ops_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "ops_email_addresses must be email addresses."
  }
}

variable "run_duration_alarm_threshold_ms" {
  description = "Alarm when a scheduled run's Duration (Maximum over 5 minutes) exceeds this many milliseconds (design: 4 minutes)."
  type        = number
  default     = 240000

  validation {
    condition     = var.run_duration_alarm_threshold_ms > 0 && var.run_duration_alarm_threshold_ms < var.run_timeout_seconds * 1000
    error_message = "run_duration_alarm_threshold_ms must be positive and below run_timeout_seconds (a timed-out run already alarms on Errors)."
  }
}

variable "worker_duration_alarm_threshold_ms" {
  description = "Alarm when a shard's Duration (Maximum over 5 minutes) exceeds this many milliseconds: shards are too large, raise job_shards."
  type        = number
  default     = 240000

  validation {
    condition     = var.worker_duration_alarm_threshold_ms > 0 && var.worker_duration_alarm_threshold_ms < var.worker_timeout_seconds * 1000
    error_message = "worker_duration_alarm_threshold_ms must be positive and below worker_timeout_seconds."
  }
}

variable "anomalies_per_hour_alarm_threshold" {
  description = "Alarm when more anomalies than this are found in one hour (design: 50, a sign of a system issue rather than customers)."
  type        = number
  default     = 50

  validation {
    condition     = var.anomalies_per_hour_alarm_threshold >= 0
    error_message = "anomalies_per_hour_alarm_threshold must not be negative."
  }
}
