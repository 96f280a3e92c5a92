variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the MWAA environment."
  type        = string
  default     = "openmetadata-sso"
}

variable "airflow_version" {
  description = "Airflow version (2.x or 3.x)."
  type        = string
  default     = "2.10.3"
}

variable "vpc_id" {
  description = "Existing VPC ID."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two private subnet IDs (different AZs, with NAT) in vpc_id."
  type        = list(string)
}

variable "openmetadata" {
  description = "Passed to the module's openmetadata input: api_endpoint, auth_provider_type and that provider's non-secret keys."
  type        = any
  sensitive   = true
}

variable "openmetadata_credentials" {
  description = "The provider's credentials (secret_key, client_secret, private_key or jwt_token): ephemeral, give them at plan and at apply."
  type        = any
  sensitive   = true
  ephemeral   = true
  default     = null
}

variable "openmetadata_credentials_version" {
  description = "Increase to write new openmetadata_credentials to Secrets Manager."
  type        = number
  default     = 1
}

variable "inline_secrets" {
  description = "Write secrets inline into the Airflow options (the seed's behaviour) instead of Secrets Manager."
  type        = bool
  default     = false
}
