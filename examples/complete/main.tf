# Everything the module can own: a new VPC (two private subnets + NAT), a customer KMS key for the bucket, the
# environment, its logs and the lineage secret, Okta service-app auth, scaling, logging, DAGs and a startup script.
# The wheel and plugins.zip are built during apply (no `make` needed when the module comes from git).

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# MWAA encrypts its CloudWatch logs with the environment's key: the key policy must admit the Logs service.
# A key policy: "*" as resource means this key (a key policy applies to its own key only), and kms:* for the
# account root is AWS's default key policy, which delegates access to IAM policies (the execution role's policy
# then grants only what MWAA needs, through kms:ViaService).
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policy: the account root administers its own key (AWS's default key policy); IAM policies then scope access.
  #checkov:skip=CKV_AWS_111:Key policy: the writes are on this key only ("*" in a key policy is the key itself), for the account root and CloudWatch Logs under an encryption-context condition.
  #checkov:skip=CKV_AWS_356:Key policy: "*" as resource in a key policy means the key the policy is attached to, nothing else.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "MWAA ${var.name}: bucket, environment, logs, lineage secret"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.kms.json
}

module "mwaa" {
  source = "../.."

  name              = var.name
  airflow_version   = "2.10.3"
  environment_class = "mw1.medium"
  min_workers       = 1
  max_workers       = 5
  schedulers        = 2
  min_webservers    = 2
  max_webservers    = 3

  create_vpc  = true
  vpc_cidr    = "10.40.0.0/16"
  kms_key_arn = aws_kms_key.this.arn

  webserver_access_mode           = "PRIVATE_ONLY"
  weekly_maintenance_window_start = "SUN:03:30"
  logging = {
    task_logs   = { log_level = "INFO" }
    worker_logs = { enabled = false }
  }

  openmetadata = {
    api_endpoint         = var.openmetadata_api_endpoint
    airflow_service_name = "mwaa_complete"
    auth_provider_type   = "okta"
    client_id            = var.okta_client_id
    org_url              = var.okta_org_url
    email                = var.okta_email
    scopes               = ["openmetadata.lineage"] # a custom scope: Okta refuses openid/profile for client credentials
  }
  openmetadata_credentials = { private_key = var.okta_private_key } # ephemeral: Secrets Manager only

  airflow_configuration_options = {
    "core.default_timezone" = "utc"
    "lineage.time_budget"   = "10"
  }
  extra_requirements = ["apache-airflow-providers-postgres"]
  dags_dir           = "${path.module}/dags"
  startup_script     = "#!/usr/bin/env bash\nexport OPENMETADATA_LINEAGE_EXAMPLE=complete\n"
  artifacts          = { build_at_apply = true, python = var.build_python }

  tags = { example = "complete" }
}
