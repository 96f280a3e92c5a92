variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the MWAA environment."
  type        = string
  default     = "openmetadata-basic"
}

variable "vpc_id" {
  description = "Existing VPC ID."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two private subnet IDs (different AZs, with NAT) in vpc_id."
  type        = list(string)
}

variable "openmetadata_api_endpoint" {
  description = "OpenMetadata API URL, e.g. https://openmetadata.example.com/api."
  type        = string
}

variable "openmetadata_jwt_token" {
  description = "JWT of the OpenMetadata ingestion bot (ephemeral: give it at plan and at apply, e.g. TF_VAR_openmetadata_jwt_token)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "openmetadata_jwt_token_version" {
  description = "Increase to write a new openmetadata_jwt_token to Secrets Manager."
  type        = number
  default     = 1
}
