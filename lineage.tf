# var.openmetadata -> lineage.* Airflow options. The whole mapping is the table below; the contract with the wheel
# (keys, %-escaping, base64:, aws-secretsmanager: references) is docs/architecture.md section 1.

locals {
  # auth_provider_type -> the option keys it writes besides the common ones (required first, then optional) and the
  # wheel extra it needs. Same table as the wheel's config validation.
  lineage_providers = {
    "no-auth"      = { required = [], optional = [], extra = [] }
    "openmetadata" = { required = ["jwt_token"], optional = [], extra = [] }
    "google"       = { required = ["secret_key"], optional = ["audience"], extra = ["google"] }
    "auth0"        = { required = ["client_id", "secret_key", "domain"], optional = ["audience"], extra = [] }
    "okta"         = { required = ["client_id", "org_url", "private_key", "email"], optional = ["scopes"], extra = ["okta"] }
    "azure"        = { required = ["client_id", "client_secret", "authority", "scopes"], optional = [], extra = ["azure"] }
    "custom-oidc"  = { required = ["client_id", "secret_key", "token_endpoint"], optional = ["audience", "token_endpoint_auth_method"], extra = [] }
  }

  # Keys whose values are credentials: stored in Secrets Manager (or inline when var.inline_secrets = true).
  lineage_secret_keys = ["secret_key", "client_secret", "private_key", "jwt_token"]
  # The other attributes must already be one-line printable ASCII (checked in variable "openmetadata").
  lineage_plain_attributes = ["api_endpoint", "airflow_service_name", "client_id", "domain", "org_url", "email", "authority", "token_endpoint", "audience", "token_endpoint_auth_method"]

  # The guard at the root of plugins.zip (python/shim/): delegates to the wheel's backend, and keeps every Airflow 2
  # process alive with lineage off when the wheel did not install (a wheel class would kill them all).
  lineage_backend_class = "openmetadata_lineage_shim.OpenMetadataLineageBackend"

  ##############################################################################
  # Derived values (everything below follows from the table)
  ##############################################################################

  # Which provider and which keys are set is not secret; the values are.
  lineage_provider = nonsensitive(try(var.openmetadata.auth_provider_type, "openmetadata"))
  lineage_row      = lookup(local.lineage_providers, local.lineage_provider, { required = [], optional = [], extra = [] })
  lineage_keys     = concat(local.lineage_row.required, local.lineage_row.optional)

  # Every attribute as a string (scopes in the seed's "[a, b]" form); an empty scopes list counts as unset.
  lineage_inputs = {
    api_endpoint         = var.openmetadata.api_endpoint
    airflow_service_name = coalesce(var.openmetadata.airflow_service_name, var.name)
    client_id            = var.openmetadata.client_id
    client_secret        = var.openmetadata.client_secret
    secret_key           = var.openmetadata.secret_key
    domain               = var.openmetadata.domain
    org_url              = var.openmetadata.org_url
    private_key          = var.openmetadata.private_key
    email                = var.openmetadata.email
    scopes               = length(coalesce(var.openmetadata.scopes, [])) == 0 ? null : "[${join(", ", var.openmetadata.scopes)}]"
    authority            = var.openmetadata.authority
    token_endpoint       = var.openmetadata.token_endpoint
    jwt_token            = var.openmetadata.jwt_token
    audience             = var.openmetadata.audience

    token_endpoint_auth_method = var.openmetadata.token_endpoint_auth_method
  }

  # A provider's credentials are required keys (checked where they enter), so they are always set.
  lineage_set_keys        = [for k in local.lineage_keys : k if contains(local.lineage_secret_keys, k) || nonsensitive(local.lineage_inputs[k] != null)]
  lineage_set_secret_keys = [for k in local.lineage_set_keys : k if contains(local.lineage_secret_keys, k)]

  lineage_use_secrets_manager = !var.inline_secrets && length(local.lineage_set_secret_keys) > 0
  lineage_secret_arn          = one(aws_secretsmanager_secret.this[*].arn)

  # Inline encoding: printable one-line ASCII is written with % doubled (%% means %); anything else as base64:<b64>.
  lineage_inline = {
    for k, v in local.lineage_inputs : k => (
      v == null ? null : can(regex(local.mwaa_value_pattern, v)) ? replace(v, "%", "%%") : "base64:${base64encode(v)}"
    )
  }

  # Option key -> value or secret reference; "" stands for "the secret itself" (only used for the inline case).
  lineage_common_options = merge(
    {
      "lineage.airflow_service_name"      = local.lineage_inline.airflow_service_name
      "lineage.openmetadata_api_endpoint" = local.lineage_inline.api_endpoint
      "lineage.auth_provider_type"        = local.lineage_provider
    },
    # Airflow 3 has no lineage backend setting: the wheel's listener plugin is loaded by entry point.
    startswith(var.airflow_version, "2.") ? { "lineage.backend" = local.lineage_backend_class } : {},
    # Automatic lineage: the map as one JSON line (the wheel's fqn_map.py reads it), % doubled like every value.
    local.lineage_service_map == null ? {} : { "lineage.service_map" = replace(local.lineage_service_map, "%", "%%") },
  )
  # Not a secret (service and connection names), though it arrives inside the sensitive var.openmetadata.
  lineage_service_map_input = nonsensitive(var.openmetadata.service_map == null ? tomap({}) : var.openmetadata.service_map)
  lineage_service_map       = length(local.lineage_service_map_input) == 0 ? null : jsonencode(local.lineage_service_map_input)

  lineage_secret_refs = {
    for k in local.lineage_set_secret_keys : "lineage.${k}" => "aws-secretsmanager:${local.lineage_secret_name}#${k}"
  }

  # The full map sent to MWAA (sensitive: holds secret values when inline_secrets = true).
  lineage_options = merge(
    local.lineage_common_options,
    {
      for k in local.lineage_set_keys : "lineage.${k}" => (
        contains(local.lineage_secret_keys, k) && local.lineage_use_secrets_manager ? local.lineage_secret_refs["lineage.${k}"] : local.lineage_inline[k]
      )
    },
  )

  # What users may read: the same map with every secret replaced by its reference (never the value).
  lineage_configuration = {
    for k, v in merge(
      local.lineage_common_options,
      { for k in local.lineage_set_keys : "lineage.${k}" => local.lineage_inline[k] if !contains(local.lineage_secret_keys, k) },
      {
        for k in local.lineage_set_secret_keys : "lineage.${k}" => (
          local.lineage_use_secrets_manager ? local.lineage_secret_refs["lineage.${k}"] : "(sensitive: inline in airflow_configuration_options)"
        )
      },
    ) : k => nonsensitive(v)
  }

  # Keys the module owns: a user option with one of these names is rejected (variable airflow_configuration_options).
  lineage_owned_keys = concat(
    ["lineage.airflow_service_name", "lineage.openmetadata_api_endpoint", "lineage.auth_provider_type", "lineage.backend"],
    [for k in local.lineage_keys : "lineage.${k}"],
    local.lineage_service_map == null ? [] : ["lineage.service_map"],
  )

  # Wheel extras: the provider's, plus aws (boto3) when secrets are resolved from Secrets Manager.
  lineage_extras = sort(distinct(concat(local.lineage_row.extra, local.lineage_use_secrets_manager ? ["aws"] : [])))
}
