# Bad inputs are rejected at plan time, each by the validation of the input it concerns (offline: mock provider).
# Run from the repository root: terraform test -test-directory=tests/terraform (tests/terraform/test_validation.py).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { id = "us-east-1", name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name               = "validation"
  vpc_id             = "vpc-0abc"
  private_subnet_ids = ["subnet-0a", "subnet-0b"]
  artifacts          = { build_at_apply = true }
  openmetadata = {
    api_endpoint       = "https://om.example.com/api"
    auth_provider_type = "openmetadata"
  }
  openmetadata_credentials = { jwt_token = "eyJ.jwt.sig" }
}

run "valid_baseline" {
  command = plan

  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["lineage.auth_provider_type"] == "openmetadata"
    error_message = "baseline plan must set lineage.auth_provider_type"
  }
  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["lineage.jwt_token"] == "aws-secretsmanager:openmetadata-lineage/validation#jwt_token"
    error_message = "jwt_token must be a Secrets Manager reference"
  }
}

run "valid_micro" {
  command = plan
  variables {
    environment_class = "mw1.micro"
    schedulers        = 1
    min_workers       = 1
    max_workers       = 1
    min_webservers    = 1
    max_webservers    = 1
  }
  assert {
    condition     = aws_mwaa_environment.this.schedulers == 1
    error_message = "micro accepts one scheduler"
  }
}

run "unknown_auth_provider" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "https://om.example.com/api", auth_provider_type = "ldap" }
  }
  expect_failures = [var.openmetadata]
}

run "oidc_unknown_token_endpoint_auth_method" {
  command = plan
  variables {
    openmetadata = {
      api_endpoint               = "https://om.example.com/api"
      auth_provider_type         = "custom-oidc"
      client_id                  = "c"
      token_endpoint             = "https://idp.example.com/token"
      token_endpoint_auth_method = "private_key_jwt"
    }
  }
  expect_failures = [var.openmetadata]
}

run "okta_missing_keys" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "https://om.example.com/api", auth_provider_type = "okta", client_id = "c" }
  }
  expect_failures = [var.openmetadata]
}

run "azure_missing_scopes" {
  command = plan
  variables {
    openmetadata = {
      api_endpoint       = "https://om.example.com/api"
      auth_provider_type = "azure"
      client_id          = "c"
      authority          = "https://login.microsoftonline.com/t"
      scopes             = []
    }
    openmetadata_credentials = { client_secret = "s" }
  }
  expect_failures = [var.openmetadata]
}

run "endpoint_not_http" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "ftp://om.example.com/api" }
  }
  expect_failures = [var.openmetadata]
}

run "newline_in_value" {
  command = plan
  variables {
    openmetadata             = { api_endpoint = "https://om.example.com/api", auth_provider_type = "auth0", client_id = "a\nb", domain = "d" }
    openmetadata_credentials = { secret_key = "s" }
  }
  expect_failures = [var.openmetadata]
}

run "non_ascii_in_value" {
  command = plan
  variables {
    openmetadata             = { api_endpoint = "https://om.example.com/api", auth_provider_type = "okta", client_id = "c", org_url = "https://o", email = "bøt@example.com" }
    openmetadata_credentials = { private_key = "k" }
  }
  expect_failures = [var.openmetadata]
}

run "scope_with_comma" {
  command = plan
  variables {
    openmetadata             = { api_endpoint = "https://om.example.com/api", auth_provider_type = "okta", client_id = "c", org_url = "https://o", email = "e", scopes = ["a,b"] }
    openmetadata_credentials = { private_key = "k" }
  }
  expect_failures = [var.openmetadata]
}

run "empty_secret" {
  command = plan
  variables {
    openmetadata_credentials = { jwt_token = "" }
  }
  expect_failures = [var.openmetadata_credentials]
}

run "empty_inline_secret" {
  command = plan
  variables {
    inline_secrets           = true
    openmetadata             = { api_endpoint = "https://om.example.com/api", auth_provider_type = "openmetadata", jwt_token = "" }
    openmetadata_credentials = null
  }
  expect_failures = [var.openmetadata]
}

# Issue 11 item 6: OpenMetadata >= 1.0 always authenticates, so the default provider is the JWT one and needs a
# token; no-auth stays available when asked for.
run "default_provider_needs_jwt_token" {
  command = plan
  variables {
    openmetadata             = { api_endpoint = "https://om.example.com/api" }
    openmetadata_credentials = null
  }
  expect_failures = [var.openmetadata_credentials]
}

run "no_auth_when_asked_for" {
  command = plan
  variables {
    openmetadata             = { api_endpoint = "https://om.example.com/api", auth_provider_type = "no-auth" }
    openmetadata_credentials = null
  }
  assert {
    condition     = aws_mwaa_environment.this.airflow_configuration_options["lineage.auth_provider_type"] == "no-auth"
    error_message = "no-auth must stay available"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.this) == 0
    error_message = "no-auth needs no secret"
  }
}

# Off the inline_secrets path a credential in openmetadata would sit in the plan and state: refused.
run "secret_in_openmetadata_refused" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "https://om.example.com/api", auth_provider_type = "openmetadata", jwt_token = "eyJ.jwt.sig" }
  }
  expect_failures = [var.openmetadata]
}

run "credentials_cannot_be_inline" {
  command = plan
  variables {
    inline_secrets = true
    openmetadata   = { api_endpoint = "https://om.example.com/api", auth_provider_type = "openmetadata", jwt_token = "eyJ.jwt.sig" }
  }
  expect_failures = [var.openmetadata_credentials]
}

run "credentials_version_whole_number" {
  command = plan
  variables {
    openmetadata_credentials_version = 1.5
  }
  expect_failures = [var.openmetadata_credentials_version]
}

run "secret_is_write_only" {
  command = plan
  variables {
    openmetadata_credentials_version = 3
  }
  assert {
    condition     = aws_secretsmanager_secret_version.this[0].secret_string_wo_version == 3
    error_message = "the credentials version must drive the write-only secret version"
  }
  assert {
    condition     = aws_secretsmanager_secret_version.this[0].secret_string == null || aws_secretsmanager_secret_version.this[0].secret_string == ""
    error_message = "the secret value must not be a stored attribute"
  }
}

run "option_key_clash" {
  command = plan
  variables {
    airflow_configuration_options = { "lineage.jwt_token" = "x" }
  }
  expect_failures = [var.airflow_configuration_options]
}

run "option_key_invalid" {
  command = plan
  variables {
    airflow_configuration_options = { "Core.Timezone" = "utc" }
  }
  expect_failures = [var.airflow_configuration_options]
}

run "option_value_newline" {
  command = plan
  variables {
    airflow_configuration_options = { "core.x" = "a\nb" }
  }
  expect_failures = [var.airflow_configuration_options]
}

# Inputs of different variables are combined per run (each listed variable must fail) to keep the suite fast.
run "counts_out_of_range" {
  command = plan
  variables {
    max_workers    = 30
    schedulers     = 6
    max_webservers = 6
  }
  expect_failures = [var.max_workers, var.schedulers, var.max_webservers]
}

# A variable whose own validation fails stops the cross-variable checks that refer to it: separate runs.
run "min_counts_out_of_range" {
  command = plan
  variables {
    min_workers    = 0
    min_webservers = 1
  }
  expect_failures = [var.min_workers, var.min_webservers]
}

run "counts_min_above_max" {
  command = plan
  variables {
    min_workers    = 5
    max_workers    = 2
    min_webservers = 4
    max_webservers = 3
  }
  expect_failures = [var.max_workers, var.max_webservers]
}

run "micro_class_rules" {
  command = plan
  variables {
    environment_class = "mw1.micro"
    schedulers        = 2
    max_workers       = 2
    max_webservers    = 2
  }
  expect_failures = [var.schedulers, var.max_workers, var.max_webservers]
}

run "micro_class_min_rules" {
  command = plan
  variables {
    environment_class = "mw1.micro"
    min_workers       = 2
    min_webservers    = 2
  }
  expect_failures = [var.min_workers, var.min_webservers]
}

run "environment_inputs" {
  command = plan
  variables {
    name                            = "1-starts-with-digit"
    airflow_version                 = "1.10.12"
    environment_class               = "mw1.huge"
    weekly_maintenance_window_start = "SUN:03:15"
    logging                         = { task_logs = { log_level = "VERBOSE" } }
    private_subnet_ids              = ["subnet-0a"]
    create_bucket                   = false
    kms_key_arn                     = "alias/mwaa"
  }
  expect_failures = [
    var.name,
    var.airflow_version,
    var.environment_class,
    var.weekly_maintenance_window_start,
    var.logging,
    var.private_subnet_ids,
    var.bucket_name,
    var.kms_key_arn,
  ]
}

# An inline secret is written as base64: when multi-line; if that encoding passes MWAA's 65536-character limit the
# environment's precondition stops the plan (Secrets Manager has no such limit: keep inline_secrets = false).
run "inline_secret_too_long_after_encoding" {
  command = plan
  variables {
    inline_secrets           = true
    openmetadata_credentials = null
    openmetadata = {
      api_endpoint       = "https://om.example.com/api"
      auth_provider_type = "google"
      secret_key         = join("", [for i in range(1000) : "abcdefghi\nabcdefghi\nabcdefghi\nabcdefghi\nabcdefghi\nabcdefghi\n"])
    }
  }
  expect_failures = [aws_mwaa_environment.this]
}

run "plugins_dir_without_build" {
  command = plan
  variables {
    plugins_dir = "."
    artifacts   = { build_at_apply = false, plugins_zip_path = "versions.tf" }
  }
  expect_failures = [var.plugins_dir]
}

run "prebuilt_plugins_zip_missing" {
  command = plan
  variables {
    artifacts = { plugins_zip_path = "/nonexistent/plugins.zip" }
  }
  expect_failures = [aws_s3_object.plugins]
}

# Any S3 bucket name works (no "airflow-" prefix rule: CreateEnvironment's SourceBucketArn pattern is
# arn:aws(-[a-z]+)?:s3:::[a-z0-9.\-]+); S3's own naming rules still apply.
run "bucket_name_any_prefix" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "data-platform.mwaa-source"
  }
  assert {
    condition     = aws_mwaa_environment.this.source_bucket_arn == "arn:aws:s3:::data-platform.mwaa-source"
    error_message = "a bucket name without the airflow- prefix must be accepted"
  }
}

run "bucket_name_not_an_s3_name" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "Airflow_Source"
  }
  expect_failures = [var.bucket_name]
}

run "service_map_one_json_line" {
  command = plan
  variables {
    openmetadata = {
      api_endpoint = "https://om.example.com/api"
      service_map  = { warehouse_pg = "pg_prod", "postgres://db.internal:5432" = "pg_prod.analytics.public", local_sqlite = "lake.main.main" }
    }
  }
  assert {
    condition     = jsondecode(aws_mwaa_environment.this.airflow_configuration_options["lineage.service_map"]) == { warehouse_pg = "pg_prod", "postgres://db.internal:5432" = "pg_prod.analytics.public", local_sqlite = "lake.main.main" }
    error_message = "lineage.service_map must carry the map as JSON"
  }
  assert {
    condition     = !strcontains(aws_mwaa_environment.this.airflow_configuration_options["lineage.service_map"], "\n")
    error_message = "lineage.service_map must be one line"
  }
}

run "service_map_unset_writes_no_option" {
  command = plan
  assert {
    condition     = !contains(keys(aws_mwaa_environment.this.airflow_configuration_options), "lineage.service_map")
    error_message = "no service_map, no lineage.service_map option"
  }
}

run "service_map_value_with_four_parts" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "https://om.example.com/api", service_map = { pg = "svc.db.schema.table" } }
  }
  expect_failures = [var.openmetadata]
}

run "service_map_empty_part" {
  command = plan
  variables {
    openmetadata = { api_endpoint = "https://om.example.com/api", service_map = { pg = "svc..public" } }
  }
  expect_failures = [var.openmetadata]
}
