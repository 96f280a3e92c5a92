variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the MWAA environment."
  type        = string
  default     = "openmetadata-complete"
}

variable "openmetadata_api_endpoint" {
  description = "OpenMetadata API URL, e.g. https://openmetadata.example.com/api."
  type        = string
}

variable "okta_client_id" {
  description = "Client ID of the Okta service app."
  type        = string
}

variable "okta_org_url" {
  description = "Okta authorization server URL, e.g. https://dev-1.okta.com/oauth2/default."
  type        = string
}

variable "okta_private_key" {
  description = "PEM private key of the Okta service app (multi-line is fine)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "okta_email" {
  description = "Email of the OpenMetadata bot user."
  type        = string
}

variable "build_python" {
  description = "Python used to build the wheel and plugins.zip during apply (needs hatchling, else pip fetches it)."
  type        = string
  default     = "python3"
}
