variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the MWAA environment."
  type        = string
  default     = "openmetadata-private"
}

variable "ui_cidr_blocks" {
  description = "Networks allowed to open the Airflow UI (HTTPS to the web server endpoint)."
  type        = list(string)
  default     = ["10.0.0.0/8"]
}

variable "openmetadata_api_endpoint" {
  description = "OpenMetadata API URL reachable from inside the VPC, e.g. https://openmetadata.internal/api."
  type        = string
}

variable "oidc_client_id" {
  description = "Client ID of the OpenMetadata bot at the identity provider."
  type        = string
}

variable "oidc_token_endpoint" {
  description = "Token endpoint of the identity provider, reachable from inside the VPC."
  type        = string
}

variable "oidc_client_secret" {
  description = "Client secret of the bot (ephemeral: give it at plan and at apply, e.g. TF_VAR_oidc_client_secret)."
  type        = string
  sensitive   = true
  ephemeral   = true
}
