data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # the region name on provider 5.x and 6.x (name is deprecated in 6.x)

  # Create-vs-bring, resolved once.
  vpc_id             = var.create_vpc ? one(aws_vpc.this[*].id) : var.vpc_id
  private_subnet_ids = var.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  bucket_name        = var.create_bucket ? one(aws_s3_bucket.this[*].bucket) : var.bucket_name
  bucket_arn         = "arn:${local.partition}:s3:::${local.bucket_name}"
  execution_role_arn = var.create_execution_role ? one(aws_iam_role.this[*].arn) : var.execution_role_arn

  airflow_configuration_options = merge(var.airflow_configuration_options, local.lineage_options)
  # Only the verdict leaves the sensitive map, never a value.
  lineage_values_ok = nonsensitive(alltrue([for k, v in local.lineage_options : length(v) <= local.mwaa_value_max_length && can(regex(local.mwaa_value_pattern, v))]))

  # MWAA's rule for an airflow_configuration_options value (CreateEnvironment API): printable ASCII on one line,
  # 1-65536 characters. Every check of a value reads these two.
  mwaa_value_pattern    = "^[ -~]+$"
  mwaa_value_max_length = 65536

  tags = merge(var.tags, { "terraform-module" = "airflow-openmetadata-lineage" })
}

resource "aws_mwaa_environment" "this" {
  #checkov:skip=CKV_AWS_242:Scheduler logs are on by default (var.logging); turning them off is the caller's choice.
  #checkov:skip=CKV_AWS_243:Worker logs are on by default (var.logging); turning them off is the caller's choice.
  #checkov:skip=CKV_AWS_244:Webserver logs are on by default (var.logging); turning them off is the caller's choice.
  name                             = var.name
  airflow_version                  = var.airflow_version
  environment_class                = var.environment_class
  execution_role_arn               = local.execution_role_arn
  kms_key                          = var.kms_key_arn
  source_bucket_arn                = local.bucket_arn
  dag_s3_path                      = var.dag_s3_path
  plugins_s3_path                  = aws_s3_object.plugins.key
  plugins_s3_object_version        = aws_s3_object.plugins.version_id
  requirements_s3_path             = aws_s3_object.requirements.key
  requirements_s3_object_version   = aws_s3_object.requirements.version_id
  startup_script_s3_path           = one(aws_s3_object.startup_script[*].key)
  startup_script_s3_object_version = one(aws_s3_object.startup_script[*].version_id)
  min_workers                      = var.min_workers
  max_workers                      = var.max_workers
  schedulers                       = var.schedulers
  min_webservers                   = var.min_webservers
  max_webservers                   = var.max_webservers
  webserver_access_mode            = var.webserver_access_mode
  endpoint_management              = var.endpoint_management
  weekly_maintenance_window_start  = var.weekly_maintenance_window_start
  airflow_configuration_options    = local.airflow_configuration_options

  logging_configuration {
    dag_processing_logs {
      enabled   = var.logging.dag_processing_logs.enabled
      log_level = var.logging.dag_processing_logs.log_level
    }
    scheduler_logs {
      enabled   = var.logging.scheduler_logs.enabled
      log_level = var.logging.scheduler_logs.log_level
    }
    task_logs {
      enabled   = var.logging.task_logs.enabled
      log_level = var.logging.task_logs.log_level
    }
    webserver_logs {
      enabled   = var.logging.webserver_logs.enabled
      log_level = var.logging.webserver_logs.log_level
    }
    worker_logs {
      enabled   = var.logging.worker_logs.enabled
      log_level = var.logging.worker_logs.log_level
    }
  }

  network_configuration {
    security_group_ids = concat([aws_security_group.this.id], var.security_group_ids)
    subnet_ids         = local.private_subnet_ids
  }

  dynamic "timeouts" {
    for_each = var.timeouts == null ? [] : [var.timeouts]
    content {
      create = timeouts.value.create
      update = timeouts.value.update
      delete = timeouts.value.delete
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.lineage_values_ok
      error_message = "An encoded lineage.* value breaks MWAA's rule (1-65536 printable ASCII characters): shorten the openmetadata attribute or keep secrets in Secrets Manager (inline_secrets = false)."
    }
  }

  # Everything the environment needs to start, including what it does not reference: CreateEnvironment is
  # refused while its security group has no rules, and it fails later without routes, endpoints or policies.
  # tests/terraform/test_creation_order.py keeps this list complete.
  depends_on = [
    aws_iam_role_policy.this,
    aws_iam_role_policy.extra,
    aws_iam_role_policy_attachment.extra,
    aws_s3_bucket_policy.this,
    aws_s3_bucket_public_access_block.this,
    aws_secretsmanager_secret_version.this,
    aws_vpc_security_group_ingress_rule.self,
    aws_vpc_security_group_egress_rule.all,
    aws_route.private_nat,
    aws_route.public_internet,
    aws_route_table_association.private,
    aws_route_table_association.public,
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.interface,
    aws_vpc_security_group_ingress_rule.endpoints,
  ]
}
