terraform {
  # 1.9: variable validations that refer to other variables (VPC pairs, alarm thresholds below timeouts).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked with 5.100 (terraform validate and test). Needs a 2024 or later 5.x: logging_config on
      # aws_lambda_function, state on aws_cloudwatch_event_rule.
      version = ">= 5.50, < 7.0"
    }
  }
}
