# A root module that deploys MeterFlow with the module's defaults: hourly runs, 512 MB / 300 s on nodejs22.x,
# one shard. Copy terraform.tfvars.example to terraform.tfvars, fill it in, then `terraform init && terraform apply`
# from this directory (after `npm run build:lambda` and `meterflow migrate`, see docs/deploy.md).

provider "aws" {
  region = var.region

  # Every resource the provider creates gets these tags (the module adds its own `tags` on top).
  default_tags {
    tags = var.default_tags
  }
}

module "meterflow" {
  source = "../../modules/meterflow"

  name            = var.name
  lambda_zip_path = var.lambda_zip_path

  clickhouse_secret_arn = var.clickhouse_secret_arn
  clickhouse_url        = var.clickhouse_url
  secrets_kms_key_arn   = var.secrets_kms_key_arn

  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids

  schedule_expression = var.schedule_expression
  job_shards          = var.job_shards

  alert_email_addresses = var.alert_email_addresses
  alert_https_endpoints = var.alert_https_endpoints
  ops_email_addresses   = var.ops_email_addresses
  public_url            = var.public_url
  extra_environment     = var.extra_environment

  deletion_protection = var.deletion_protection

  tags = { Component = "meterflow" }
}
