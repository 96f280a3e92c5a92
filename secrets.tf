# One Secrets Manager secret per environment holds the lineage credentials (var.openmetadata_credentials, ephemeral)
# as a JSON object {"jwt_token": "...", "private_key": "...", ...}; options reference it by name,
# aws-secretsmanager:<name>#<key>
# (known at plan time, so plans and lineage_configuration show the exact references; the region is the
# environment's, which MWAA exports as AWS_DEFAULT_REGION). The wheel resolves them at run time with the execution
# role, the only principal this module grants read access.

locals {
  lineage_secret_name = coalesce(var.secret_name, "openmetadata-lineage/${var.name}")
}

resource "aws_secretsmanager_secret" "this" {
  count = local.lineage_use_secrets_manager ? 1 : 0
  #checkov:skip=CKV2_AWS_57:Rotation belongs to the identity provider that issues these credentials, not to this module.

  name                    = local.lineage_secret_name
  description             = "OpenMetadata lineage credentials of MWAA environment ${var.name}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = local.tags
}

# Which keys the secret holds (not secret): a switch of provider (jwt_token -> secret_key) must rewrite the value
# although openmetadata_credentials_version stays the same.
resource "terraform_data" "lineage_secret_keys" {
  count = local.lineage_use_secrets_manager ? 1 : 0

  input = local.lineage_set_secret_keys
}

# Write-only: the value goes to Secrets Manager and nowhere else (not the state, not the plan); a new version is
# written when openmetadata_credentials_version or the set of keys changes.
resource "aws_secretsmanager_secret_version" "this" {
  count = local.lineage_use_secrets_manager ? 1 : 0

  secret_id                = aws_secretsmanager_secret.this[0].id
  secret_string_wo         = jsonencode({ for k in local.lineage_set_secret_keys : k => var.openmetadata_credentials[k] })
  secret_string_wo_version = var.openmetadata_credentials_version

  lifecycle {
    replace_triggered_by = [terraform_data.lineage_secret_keys[count.index]]
  }
}
