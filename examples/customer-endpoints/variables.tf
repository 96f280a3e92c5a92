variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the MWAA environment."
  type        = string
  default     = "openmetadata-customer-endpoints"
}

variable "vpc_id" {
  description = "Existing (e.g. shared) VPC ID."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two private subnet IDs (different AZs, with a NAT route or endpoints) in vpc_id."
  type        = list(string)
}

variable "ui_security_group_ids" {
  description = "Security groups (bastion, VPN, proxy) allowed to open the Airflow UI through the web server endpoint."
  type        = list(string)
  default     = []
}

variable "openmetadata_api_endpoint" {
  description = "OpenMetadata API URL, e.g. https://openmetadata.example.com/api."
  type        = string
}

variable "openmetadata_jwt_token" {
  description = "JWT of the OpenMetadata ingestion bot (ephemeral: give it at plan and at apply)."
  type        = string
  sensitive   = true
  ephemeral   = true
}
