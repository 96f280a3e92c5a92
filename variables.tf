################################################################################
# Environment
################################################################################

variable "name" {
  description = "Name of the MWAA environment (also used to name the bucket, role, security group and secret)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][0-9a-zA-Z_-]{0,79}$", var.name))
    error_message = "name must start with a letter and contain only letters, digits, '-' and '_' (at most 80 characters), e.g. \"analytics-prod\"."
  }
}

variable "airflow_version" {
  description = "Airflow version of the environment: one of the MWAA versions in mwaa/versions.json (2.9.2, 2.10.1, 2.10.3, 2.11.0, 2.11.2, 3.0.6, 3.2.1, 3.3.1). 2.x uses the wheel's lineage backend, 3.x its listener plugin; plugins.zip carries the wheels this version's image lacks."
  type        = string
  default     = "2.10.3"

  validation {
    condition     = contains(keys(jsondecode(file("${path.module}/mwaa/versions.json")).versions), var.airflow_version)
    error_message = "airflow_version must be an Airflow version MWAA offers: one of ${join(", ", keys(jsondecode(file("${path.module}/mwaa/versions.json")).versions))} (mwaa/versions.json)."
  }
}

variable "environment_class" {
  description = "MWAA environment class: mw1.micro, mw1.small, mw1.medium, mw1.large, mw1.xlarge or mw1.2xlarge."
  type        = string
  default     = "mw1.small"

  validation {
    condition     = contains(["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"], var.environment_class)
    error_message = "environment_class must be one of mw1.micro, mw1.small, mw1.medium, mw1.large, mw1.xlarge, mw1.2xlarge."
  }
}

variable "min_workers" {
  description = "Minimum number of workers (1-25; exactly 1 on mw1.micro). null lets MWAA choose."
  type        = number
  default     = null

  validation {
    condition     = var.min_workers == null || try(var.min_workers >= 1 && var.min_workers <= 25 && floor(var.min_workers) == var.min_workers, false)
    error_message = "min_workers must be a whole number from 1 to 25."
  }
  validation {
    condition     = var.environment_class != "mw1.micro" || var.min_workers == null || var.min_workers == 1
    error_message = "min_workers must be 1 (or null) when environment_class = \"mw1.micro\" (micro environments do not scale workers)."
  }
}

variable "max_workers" {
  description = "Maximum number of workers (1-25, >= min_workers; exactly 1 on mw1.micro). null lets MWAA choose."
  type        = number
  default     = null

  validation {
    condition     = var.max_workers == null || try(var.max_workers >= 1 && var.max_workers <= 25 && floor(var.max_workers) == var.max_workers, false)
    error_message = "max_workers must be a whole number from 1 to 25."
  }
  validation {
    condition     = var.max_workers == null || var.min_workers == null || try(var.max_workers >= var.min_workers, true)
    error_message = "max_workers must be greater than or equal to min_workers."
  }
  validation {
    condition     = var.environment_class != "mw1.micro" || var.max_workers == null || var.max_workers == 1
    error_message = "max_workers must be 1 (or null) when environment_class = \"mw1.micro\" (micro environments do not scale workers)."
  }
}

variable "schedulers" {
  description = "Number of schedulers (2-5; exactly 1 on mw1.micro). null lets MWAA choose."
  type        = number
  default     = null

  validation {
    condition     = var.schedulers == null || var.environment_class == "mw1.micro" || try(var.schedulers >= 2 && var.schedulers <= 5 && floor(var.schedulers) == var.schedulers, false)
    error_message = "schedulers must be a whole number from 2 to 5."
  }
  validation {
    condition     = var.environment_class != "mw1.micro" || var.schedulers == null || var.schedulers == 1
    error_message = "schedulers must be 1 (or null) when environment_class = \"mw1.micro\"."
  }
}

variable "min_webservers" {
  description = "Minimum number of webservers (2-5; exactly 1 on mw1.micro). null lets MWAA choose."
  type        = number
  default     = null

  validation {
    condition     = var.min_webservers == null || var.environment_class == "mw1.micro" || try(var.min_webservers >= 2 && var.min_webservers <= 5 && floor(var.min_webservers) == var.min_webservers, false)
    error_message = "min_webservers must be a whole number from 2 to 5."
  }
  validation {
    condition     = var.environment_class != "mw1.micro" || var.min_webservers == null || var.min_webservers == 1
    error_message = "min_webservers must be 1 (or null) when environment_class = \"mw1.micro\"."
  }
}

variable "max_webservers" {
  description = "Maximum number of webservers (2-5, >= min_webservers; exactly 1 on mw1.micro). null lets MWAA choose."
  type        = number
  default     = null

  validation {
    condition     = var.max_webservers == null || var.environment_class == "mw1.micro" || try(var.max_webservers >= 2 && var.max_webservers <= 5 && floor(var.max_webservers) == var.max_webservers, false)
    error_message = "max_webservers must be a whole number from 2 to 5."
  }
  validation {
    condition     = var.max_webservers == null || var.min_webservers == null || try(var.max_webservers >= var.min_webservers, true)
    error_message = "max_webservers must be greater than or equal to min_webservers."
  }
  validation {
    condition     = var.environment_class != "mw1.micro" || var.max_webservers == null || var.max_webservers == 1
    error_message = "max_webservers must be 1 (or null) when environment_class = \"mw1.micro\"."
  }
}

variable "webserver_access_mode" {
  description = "Airflow UI access: PRIVATE_ONLY (from inside the VPC) or PUBLIC_ONLY."
  type        = string
  default     = "PRIVATE_ONLY"

  validation {
    condition     = contains(["PRIVATE_ONLY", "PUBLIC_ONLY"], var.webserver_access_mode)
    error_message = "webserver_access_mode must be \"PRIVATE_ONLY\" or \"PUBLIC_ONLY\"."
  }
}

variable "webserver_ingress_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach the Airflow UI over HTTPS (443) through the environment's web server endpoint (PRIVATE_ONLY access: the endpoint lives in private_subnet_ids with the module's security group). PUBLIC_ONLY access is controlled by IAM (airflow:CreateWebLoginToken), not by these rules."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.webserver_ingress_cidr_blocks : can(cidrhost(c, 0)) && !strcontains(c, ":")])
    error_message = "webserver_ingress_cidr_blocks must list IPv4 CIDR blocks such as \"10.0.0.0/8\"."
  }
  validation {
    condition     = length(var.webserver_ingress_cidr_blocks) == 0 || var.webserver_access_mode == "PRIVATE_ONLY"
    error_message = "webserver_ingress_cidr_blocks only apply with webserver_access_mode = \"PRIVATE_ONLY\" (with PUBLIC_ONLY the UI is reached over the internet and IAM decides who gets in): remove them or switch to PRIVATE_ONLY."
  }
}

variable "webserver_ingress_security_group_ids" {
  description = "Security groups (e.g. of a bastion, VPN or proxy) allowed to reach the Airflow UI over HTTPS (443) through the environment's web server endpoint (PRIVATE_ONLY access)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.webserver_ingress_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", g))])
    error_message = "webserver_ingress_security_group_ids must list security group IDs such as \"sg-0123456789abcdef0\"."
  }
  validation {
    condition     = length(var.webserver_ingress_security_group_ids) == 0 || var.webserver_access_mode == "PRIVATE_ONLY"
    error_message = "webserver_ingress_security_group_ids only apply with webserver_access_mode = \"PRIVATE_ONLY\": remove them or switch to PRIVATE_ONLY."
  }
}

variable "endpoint_management" {
  description = "Who manages the environment's VPC endpoints: SERVICE (MWAA) or CUSTOMER (you create interface endpoints to the database_vpc_endpoint_service and webserver_vpc_endpoint_service outputs, e.g. in a shared VPC). null keeps MWAA's default (SERVICE)."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint_management == null || contains(["SERVICE", "CUSTOMER"], coalesce(var.endpoint_management, "SERVICE"))
    error_message = "endpoint_management must be \"SERVICE\", \"CUSTOMER\" or null."
  }
}

variable "weekly_maintenance_window_start" {
  description = "Start of the weekly maintenance window, DAY:HH:MM in UTC on a half hour, e.g. \"SUN:03:30\". null lets MWAA choose."
  type        = string
  default     = null

  validation {
    condition     = var.weekly_maintenance_window_start == null || can(regex("^(MON|TUE|WED|THU|FRI|SAT|SUN):([01][0-9]|2[0-3]):(00|30)$", coalesce(var.weekly_maintenance_window_start, "x")))
    error_message = "weekly_maintenance_window_start must look like \"SUN:03:30\" (day MON-SUN, hour 00-23, minutes 00 or 30)."
  }
}

variable "logging" {
  description = "CloudWatch logging per Airflow component. Each entry: enabled (bool) and log_level (CRITICAL, ERROR, WARNING, INFO, DEBUG). Task logs default to enabled at INFO, the others to enabled at WARNING."
  type = object({
    dag_processing_logs = optional(object({ enabled = optional(bool, true), log_level = optional(string, "WARNING") }), {})
    scheduler_logs      = optional(object({ enabled = optional(bool, true), log_level = optional(string, "WARNING") }), {})
    task_logs           = optional(object({ enabled = optional(bool, true), log_level = optional(string, "INFO") }), {})
    webserver_logs      = optional(object({ enabled = optional(bool, true), log_level = optional(string, "WARNING") }), {})
    worker_logs         = optional(object({ enabled = optional(bool, true), log_level = optional(string, "WARNING") }), {})
  })
  default = {}

  validation {
    condition     = alltrue([for k, v in var.logging : contains(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], v.log_level)])
    error_message = "logging.<type>.log_level must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG."
  }
}

variable "airflow_configuration_options" {
  description = "Extra Airflow configuration options (\"section.key\" = \"value\"), merged with the lineage.* options the module sets. Setting a lineage.* key the module owns is an error."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.airflow_configuration_options : can(regex("^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$", k)) && length(k) <= 64])
    error_message = "airflow_configuration_options keys must be lower case \"section.key\" (a-z, 0-9, '.', '_'; at most 64 characters), e.g. \"core.default_timezone\"."
  }
  validation {
    condition     = alltrue([for k, v in var.airflow_configuration_options : length(v) <= local.mwaa_value_max_length && can(regex(local.mwaa_value_pattern, v))])
    error_message = "airflow_configuration_options values must be 1-65536 printable ASCII characters without newlines (MWAA's rule); encode multi-line values, e.g. as base64."
  }
  validation {
    condition = length(setintersection(keys(var.airflow_configuration_options), local.lineage_owned_keys)) == 0
    error_message = format(
      "airflow_configuration_options must not set %s: the module writes these keys from var.openmetadata; set the matching openmetadata attribute instead.",
      join(", ", sort(setintersection(keys(var.airflow_configuration_options), local.lineage_owned_keys))),
    )
  }
}

variable "startup_script" {
  description = "Content of a startup shell script uploaded as startup.sh and run by MWAA before Airflow starts (e.g. file(\"startup.sh\")). null: none."
  type        = string
  default     = null
}

variable "timeouts" {
  description = "Create/update/delete timeouts of the MWAA environment (e.g. { create = \"2h\" }); null keeps the provider's defaults."
  type = object({
    create = optional(string)
    update = optional(string)
    delete = optional(string)
  })
  default = null
}

variable "tags" {
  description = "Tags applied to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "create_vpc" {
  description = "Create a VPC with two private subnets in different AZs for MWAA, their way out chosen by nat_gateway_mode. false: bring vpc_id and private_subnet_ids."
  type        = bool
  default     = false
}

variable "nat_gateway_mode" {
  description = "Way out of the created VPC (create_vpc = true): \"per_az\" (a NAT gateway per AZ), \"single\" (one NAT gateway for both AZs) or \"none\" (no internet: VPC endpoints only, see vpc_interface_endpoints; requirements must then install without PyPI)."
  type        = string
  default     = "per_az"

  validation {
    condition     = contains(["per_az", "single", "none"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be \"per_az\", \"single\" or \"none\"."
  }
}

variable "vpc_interface_endpoints" {
  description = "Interface VPC endpoints created in the VPC made by create_vpc, as service suffixes of com.amazonaws.<region>. (e.g. \"logs\", \"airflow.api\"). null: with nat_gateway_mode = \"none\" everything MWAA and the wheel need (airflow.api, airflow.env, airflow.ops, sqs, ecr.api, ecr.dkr, kms, logs, monitoring, secretsmanager), otherwise none. The S3 gateway endpoint is always created."
  type        = list(string)
  default     = null

  validation {
    condition     = var.vpc_interface_endpoints == null || alltrue([for e in coalesce(var.vpc_interface_endpoints, []) : can(regex("^[a-z0-9][a-z0-9.-]*$", e))])
    error_message = "vpc_interface_endpoints must list service suffixes such as \"logs\" or \"airflow.api\" (without com.amazonaws.<region>.)."
  }
  validation {
    condition     = var.create_vpc || var.vpc_interface_endpoints == null || length(coalesce(var.vpc_interface_endpoints, [])) == 0
    error_message = "vpc_interface_endpoints is only used with create_vpc = true; in a VPC you bring, create the endpoints yourself."
  }
}

variable "vpc_id" {
  description = "ID of an existing VPC (required when create_vpc = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_vpc || var.vpc_id != null
    error_message = "vpc_id is required when create_vpc = false; or set create_vpc = true."
  }
}

variable "private_subnet_ids" {
  description = "Exactly two private subnet IDs in different availability zones of vpc_id, with a way out: a NAT route, or VPC endpoints for private routing (required when create_vpc = false)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_vpc || length(var.private_subnet_ids) == 2
    error_message = "private_subnet_ids must list exactly two subnet IDs (in different AZs) when create_vpc = false; or set create_vpc = true."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created when create_vpc = true."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as \"10.40.0.0/16\"."
  }
}

variable "private_subnet_cidrs" {
  description = "Two CIDR blocks for the private subnets created when create_vpc = true."
  type        = list(string)
  default     = ["10.40.0.0/20", "10.40.16.0/20"]

  validation {
    condition     = length(var.private_subnet_cidrs) == 2 && alltrue([for c in var.private_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "private_subnet_cidrs must list two IPv4 CIDR blocks inside vpc_cidr."
  }
}

variable "public_subnet_cidrs" {
  description = "Two CIDR blocks for the public (NAT) subnets created when create_vpc = true (unused with nat_gateway_mode = \"none\")."
  type        = list(string)
  default     = ["10.40.128.0/24", "10.40.129.0/24"]

  validation {
    condition     = length(var.public_subnet_cidrs) == 2 && alltrue([for c in var.public_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "public_subnet_cidrs must list two IPv4 CIDR blocks inside vpc_cidr."
  }
}

variable "availability_zones" {
  description = "Two availability zones for the created subnets; empty picks the region's first two regular zones (opt-in-not-required: no Local or Wavelength Zones)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) == 2 && length(distinct(var.availability_zones)) == 2)
    error_message = "availability_zones must be empty or list two different zones."
  }
}

variable "security_group_ids" {
  description = "Extra security group IDs attached to the environment (the module always creates its own self-referencing group)."
  type        = list(string)
  default     = []
}

################################################################################
# Storage
################################################################################

variable "create_bucket" {
  description = "Create the source bucket (versioned, encrypted, public access blocked, TLS only). false: bring bucket_name."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Name of the source bucket (any S3 bucket name; MWAA needs versioning and public access blocked, which the module sets on a bucket it creates). Required when create_bucket = false; when creating, null derives a unique name from name."
  type        = string
  default     = null

  # S3's naming rules, which also satisfy CreateEnvironment's SourceBucketArn pattern arn:aws(-[a-z]+)?:s3:::[a-z0-9.\-]+.
  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.bucket_name, "x")))
    error_message = "bucket_name must be an S3 bucket name: 3-63 characters a-z, 0-9, '.', '-', starting and ending with a letter or digit."
  }
  validation {
    condition     = var.create_bucket || var.bucket_name != null
    error_message = "bucket_name is required when create_bucket = false."
  }
}

variable "bucket_force_destroy" {
  description = "Allow destroying the created bucket although it holds objects (all versions are deleted)."
  type        = bool
  default     = false
}

variable "dag_s3_path" {
  description = "Folder of the bucket holding DAGs."
  type        = string
  default     = "dags"
}

variable "dags_dir" {
  description = "Local folder whose files are uploaded under dag_s3_path. null: the module uploads no DAGs."
  type        = string
  default     = null
}

variable "plugins_dir" {
  description = "Local folder whose files go into plugins.zip beside the wheel (apply-time build; with a prebuilt plugins.zip pass it to scripts/build_artifacts.py --plugins-dir). Wheels at its root join the wheelhouse: requirements.txt installs from there (--find-links), e.g. for extra_requirements with no route to PyPI."
  type        = string
  default     = null

  validation {
    condition     = var.plugins_dir == null || coalesce(var.artifacts.build_at_apply, var.artifacts.plugins_zip_path == null)
    error_message = "plugins_dir is only used by an apply-time build: set artifacts.build_at_apply = true, or build plugins.zip yourself with scripts/build_artifacts.py --plugins-dir <dir> and leave plugins_dir unset."
  }
}

variable "extra_requirements" {
  description = "Lines appended to the generated requirements.txt (packages, or a \"-c <constraints url>\" line: without one MWAA applies its own Airflow constraints)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for l in var.extra_requirements : !strcontains(l, "\n")])
    error_message = "extra_requirements entries must be single lines (one requirement per list element)."
  }
}

variable "artifacts" {
  description = <<-EOT
    Where the wheel and plugins.zip come from.
    build_at_apply = null (default): true unless plugins_zip_path is set, so the module works as a git source with no setup.
    build_at_apply = true: run `<python> scripts/build_artifacts.py --airflow-version <v> --extras <provider's>` during apply (python3 with pip; PyPI or PIP_INDEX_URL reachable for the wheels the image lacks: azure, google), rebuilding when the python/ sources, the Airflow version, the extras or plugins_dir change; plan never needs the file.
    build_at_apply = false: upload plugins_zip_path (default <module>/build/plugins.zip, made by `make artifacts`); plan fails clearly if it is missing.
    wheel_filename: the wheel's file name inside plugins.zip (default derived from python/pyproject.toml).
    no_index: add --no-index to requirements.txt (install only from plugins.zip: for environments with no route to PyPI; extra_requirements must then be wheels at the root of plugins_dir).
  EOT
  type = object({
    no_index         = optional(bool, false)
    build_at_apply   = optional(bool)
    plugins_zip_path = optional(string)
    wheel_filename   = optional(string)
    python           = optional(string, "python3")
    build_dir        = optional(string)
  })
  default = {}

  validation {
    condition     = var.artifacts.wheel_filename == null || can(regex("^[A-Za-z0-9_.]+-[^-/]+-[^-/]+-[^-/]+-[^-/]+\\.whl$", coalesce(var.artifacts.wheel_filename, "x")))
    error_message = "artifacts.wheel_filename must be a wheel file name such as \"airflow_openmetadata_lineage-0.1.0-py3-none-any.whl\"."
  }
}

################################################################################
# Security
################################################################################

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key used for the bucket, the environment (and its logs) and the secret. null: AWS owned keys. The key policy must allow logs.<region>.amazonaws.com (see docs/module.md)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.kms_key_arn, "x")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias or key ID."
  }
}

variable "create_execution_role" {
  description = "Create the execution role with a least-privilege policy. false: bring execution_role_arn (attach the output execution_role_policy_json to it)."
  type        = bool
  default     = true
}

variable "execution_role_arn" {
  description = "ARN of an existing execution role (required when create_execution_role = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_execution_role || var.execution_role_arn != null
    error_message = "execution_role_arn is required when create_execution_role = false."
  }
}

variable "execution_role_policy_documents" {
  description = "Extra IAM policy documents (JSON) added inline to the created execution role, e.g. access to the DAGs' data."
  type        = list(string)
  default     = []
}

variable "execution_role_policy_arns" {
  description = "Extra managed policy ARNs attached to the created execution role."
  type        = list(string)
  default     = []
}

variable "execution_role_permissions_boundary" {
  description = "Permissions boundary ARN for the created execution role."
  type        = string
  default     = null
}

variable "inline_secrets" {
  description = "false (default): the credentials (openmetadata_credentials: secret_key, client_secret, private_key, jwt_token) are written only to one Secrets Manager secret (write-only: in neither the Terraform state nor the plan) and the options carry aws-secretsmanager:<secret name>#<key> references. true: the documented exception: openmetadata.<key> values are written inline into airflow_configuration_options (the seed's behaviour; kept in the state and plan, visible to anyone who can read the environment)."
  type        = bool
  default     = false
}

variable "secret_name" {
  description = "Name of the Secrets Manager secret holding the lineage credentials (default \"openmetadata-lineage/<name>\"). A deleted secret keeps its name during the recovery window."
  type        = string
  default     = null

  validation {
    condition     = var.secret_name == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", coalesce(var.secret_name, "x")))
    error_message = "secret_name may contain only letters, digits and /_+=.@- (at most 512 characters)."
  }
}

variable "secret_recovery_window_in_days" {
  description = "Recovery window of the Secrets Manager secret when it is deleted (0 deletes at once, else 7-30)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "secret_recovery_window_in_days must be 0 or from 7 to 30."
  }
}

################################################################################
# Lineage (OpenMetadata)
################################################################################

variable "openmetadata" {
  description = <<-EOT
    OpenMetadata connection written as lineage.* options. api_endpoint (http(s)://host:port/api) is required;
    airflow_service_name defaults to name; auth_provider_type is one of openmetadata (default: a bot's JWT, as
    OpenMetadata >= 1.0 always authenticates), google, auth0, okta, azure, custom-oidc, or no-auth for a server run
    without authentication. Per provider (credentials in brackets go in openmetadata_credentials, or here only with
    inline_secrets = true): openmetadata: [jwt_token]; google: [secret_key] (service-account JSON), audience
    optional; auth0: client_id, [secret_key], domain, audience (the API identifier; Auth0 refuses client
    credentials without one unless the tenant has a default audience); okta: client_id, org_url, [private_key],
    email, scopes optional (custom scopes of the authorization server: Okta refuses openid/profile for client
    credentials); azure: client_id, [client_secret], authority, scopes; custom-oidc: client_id, [secret_key],
    token_endpoint, token_endpoint_auth_method optional (client_secret_basic or client_secret_post; unset: basic,
    then post once on invalid_client).
    service_map (tasks without inlets/outlets): Airflow connection id or OpenLineage namespace => OpenMetadata
    service[.database[.schema]], e.g. { warehouse_pg = "pg_prod", local_sqlite = "lake.main.main" }.
  EOT
  type = object({
    api_endpoint         = string
    airflow_service_name = optional(string)
    auth_provider_type   = optional(string, "openmetadata")
    client_id            = optional(string)
    client_secret        = optional(string)
    secret_key           = optional(string)
    domain               = optional(string)
    org_url              = optional(string)
    private_key          = optional(string)
    email                = optional(string)
    scopes               = optional(list(string))
    authority            = optional(string)
    token_endpoint       = optional(string)
    jwt_token            = optional(string)
    audience             = optional(string)

    token_endpoint_auth_method = optional(string)
    service_map                = optional(map(string), {})
  })
  sensitive = true

  validation {
    condition     = contains(["client_secret_basic", "client_secret_post"], coalesce(var.openmetadata.token_endpoint_auth_method, "client_secret_basic"))
    error_message = "openmetadata.token_endpoint_auth_method must be client_secret_basic or client_secret_post: the method the identity provider's application is set to (Auth0: Token Endpoint Authentication Method)."
  }

  validation {
    condition = contains(keys(local.lineage_providers), var.openmetadata.auth_provider_type)
    error_message = format(
      "openmetadata.auth_provider_type must be one of %s; got %q.",
      join(", ", keys(local.lineage_providers)), nonsensitive(var.openmetadata.auth_provider_type),
    )
  }
  validation {
    condition     = can(regex("^https?://[^/?#\\s]+(/[ -~]*)?$", var.openmetadata.api_endpoint))
    error_message = "openmetadata.api_endpoint must be an http:// or https:// URL such as \"https://openmetadata.example.com/api\"."
  }
  # Per-provider required keys (table local.lineage_providers): the message names every missing key.
  validation {
    condition = length(nonsensitive([
      for k in lookup(local.lineage_providers, var.openmetadata.auth_provider_type, { required = [] }).required : k
      if(var.inline_secrets || !contains(local.lineage_secret_keys, k)) && (k == "scopes" ? length(coalesce(var.openmetadata.scopes, [])) == 0 : var.openmetadata[k] == null)
    ])) == 0
    error_message = format(
      "%s %s required when auth_provider_type = %q.",
      join(", ", formatlist("openmetadata.%s", nonsensitive([
        for k in lookup(local.lineage_providers, var.openmetadata.auth_provider_type, { required = [] }).required : k
        if(var.inline_secrets || !contains(local.lineage_secret_keys, k)) && (k == "scopes" ? length(coalesce(var.openmetadata.scopes, [])) == 0 : var.openmetadata[k] == null)
      ]))),
      length(nonsensitive([
        for k in lookup(local.lineage_providers, var.openmetadata.auth_provider_type, { required = [] }).required : k
        if(var.inline_secrets || !contains(local.lineage_secret_keys, k)) && (k == "scopes" ? length(coalesce(var.openmetadata.scopes, [])) == 0 : var.openmetadata[k] == null)
      ])) == 1 ? "is" : "are",
      nonsensitive(var.openmetadata.auth_provider_type),
    )
  }
  validation {
    condition = length(nonsensitive([
      for k in local.lineage_plain_attributes : k
      if(var.openmetadata[k] == null ? false : !(length(var.openmetadata[k]) <= local.mwaa_value_max_length && can(regex(local.mwaa_value_pattern, var.openmetadata[k]))))
    ])) == 0
    error_message = format(
      "%s must be printable ASCII on one line (no newline, no non-ASCII character, not empty, at most 65536 characters).",
      join(", ", formatlist("openmetadata.%s", nonsensitive([
        for k in local.lineage_plain_attributes : k
        if(var.openmetadata[k] == null ? false : !(length(var.openmetadata[k]) <= local.mwaa_value_max_length && can(regex(local.mwaa_value_pattern, var.openmetadata[k]))))
      ]))),
    )
  }
  validation {
    condition     = nonsensitive(alltrue([for s in coalesce(var.openmetadata.scopes, []) : can(regex("^[!-~]+$", s)) && !strcontains(s, ",")]))
    error_message = "openmetadata.scopes entries must be printable ASCII without spaces or commas, e.g. [\"openmetadata.lineage\"]."
  }
  # The default path keeps credentials out of the state and plan: they come through the ephemeral input.
  validation {
    condition = var.inline_secrets || length(nonsensitive([for k in local.lineage_secret_keys : k if var.openmetadata[k] != null])) == 0
    error_message = format(
      "%s would be kept in the Terraform plan and state: pass %s in openmetadata_credentials instead (an ephemeral input, written only to Secrets Manager), or set inline_secrets = true to write it inline.",
      join(", ", formatlist("openmetadata.%s", nonsensitive([for k in local.lineage_secret_keys : k if var.openmetadata[k] != null]))),
      length(nonsensitive([for k in local.lineage_secret_keys : k if var.openmetadata[k] != null])) == 1 ? "it" : "them",
    )
  }
  validation {
    condition = nonsensitive(alltrue([
      for k, v in(var.openmetadata.service_map == null ? tomap({}) : var.openmetadata.service_map) : can(regex("^[!-~]{1,250}$", k)) && can(regex("^(\"[ !#-~]+\"|[!#-\\-/-~]+)(\\.(\"[ !#-~]+\"|[!#-\\-/-~]+)){0,2}$", v))
    ]))
    error_message = "openmetadata.service_map: each key must be a connection id or namespace (printable ASCII, no spaces) and each value \"service\", \"service.database\" or \"service.database.schema\" (quote a part holding a dot), e.g. { warehouse_pg = \"pg_prod.analytics.public\" }."
  }
  validation {
    condition = length(nonsensitive([for k in local.lineage_secret_keys : k if var.openmetadata[k] == ""])) == 0
    error_message = format(
      "%s must not be empty (leave it null instead).",
      join(", ", formatlist("openmetadata.%s", nonsensitive([for k in local.lineage_secret_keys : k if var.openmetadata[k] == ""]))),
    )
  }
}

variable "openmetadata_credentials" {
  description = <<-EOT
    The credentials of var.openmetadata.auth_provider_type (jwt_token, secret_key, client_secret or private_key, as
    that provider needs), written only to the lineage Secrets Manager secret through a write-only argument: they are
    in neither the Terraform state nor a saved plan. Ephemeral: pass it from an ephemeral root variable (or an
    ephemeral resource) and give it again at apply time. Terraform cannot see a change of the values themselves:
    bump openmetadata_credentials_version to write new ones. Not used with inline_secrets = true.
  EOT
  type = object({
    jwt_token     = optional(string)
    secret_key    = optional(string)
    client_secret = optional(string)
    private_key   = optional(string)
  })
  default   = null
  ephemeral = true
  sensitive = true

  validation {
    condition = var.inline_secrets || length([
      for k in lookup(local.lineage_providers, var.openmetadata.auth_provider_type, { required = [] }).required : k
      if contains(local.lineage_secret_keys, k) && try(var.openmetadata_credentials[k], null) == null
    ]) == 0
    error_message = format(
      "%s required when openmetadata.auth_provider_type = %q%s.",
      join(", ", formatlist("openmetadata_credentials.%s", [
        for k in lookup(local.lineage_providers, nonsensitive(var.openmetadata.auth_provider_type), { required = [] }).required : k
        if contains(local.lineage_secret_keys, k)
      ])),
      nonsensitive(var.openmetadata.auth_provider_type),
      nonsensitive(var.openmetadata.auth_provider_type) == "openmetadata" ? " (the default: OpenMetadata >= 1.0 always authenticates; give the ingestion bot's JWT token, or set openmetadata.auth_provider_type = \"no-auth\" for a server run without authentication)" : "",
    )
  }
  validation {
    condition     = !var.inline_secrets || var.openmetadata_credentials == null
    error_message = "openmetadata_credentials is ephemeral and cannot be written inline: with inline_secrets = true put the credentials in openmetadata (e.g. openmetadata.jwt_token), or keep inline_secrets = false."
  }
  validation {
    condition     = var.openmetadata_credentials == null || length([for k, v in coalesce(var.openmetadata_credentials, {}) : k if v == ""]) == 0
    error_message = "openmetadata_credentials values must not be empty (leave unused keys null)."
  }
}

variable "openmetadata_credentials_version" {
  description = "Version of openmetadata_credentials written to Secrets Manager (write-only: Terraform does not see a change of the values). Increase it (e.g. 1 -> 2) in the apply that passes new credentials to rotate them."
  type        = number
  default     = 1

  validation {
    condition     = var.openmetadata_credentials_version >= 1 && floor(var.openmetadata_credentials_version) == var.openmetadata_credentials_version
    error_message = "openmetadata_credentials_version must be a whole number >= 1; increase it to write new openmetadata_credentials."
  }
}
