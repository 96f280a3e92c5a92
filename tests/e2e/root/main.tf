# The end-to-end (and `make demo`) root: the module in an existing VPC, with a DAG folder and prebuilt
# artifacts. Tests add aws_override.tf (moto + the MWAA emulator) next to this file after staging it.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "name" {
  type = string
}

variable "vpc_id" {
  type    = string
  default = null
}

variable "private_subnet_ids" {
  type    = list(string)
  default = []
}

# create_vpc = true with nat_gateway_mode = "none": the no-internet network (VPC endpoints only).
variable "create_vpc" {
  type    = bool
  default = false
}

variable "nat_gateway_mode" {
  type    = string
  default = "per_az"
}

variable "openmetadata" {
  type      = any
  sensitive = true
}

# The provider's credentials: ephemeral, so neither the state nor a saved plan holds them.
variable "openmetadata_credentials" {
  type      = any
  sensitive = true
  ephemeral = true
  default   = null
}

variable "airflow_configuration_options" {
  type    = map(string)
  default = {}
}

variable "airflow_version" {
  type    = string
  default = "2.10.3"
}

variable "plugins_zip_path" {
  type = string
}

variable "dags_dir" {
  type = string
}

module "mwaa" {
  source = "../../.."

  name                           = var.name
  airflow_version                = var.airflow_version
  vpc_id                         = var.vpc_id
  private_subnet_ids             = var.private_subnet_ids
  create_vpc                     = var.create_vpc
  nat_gateway_mode               = var.nat_gateway_mode
  openmetadata                   = var.openmetadata
  openmetadata_credentials       = var.openmetadata_credentials
  airflow_configuration_options  = var.airflow_configuration_options
  dags_dir                       = var.dags_dir
  artifacts                      = { plugins_zip_path = var.plugins_zip_path }
  bucket_force_destroy           = true
  secret_recovery_window_in_days = 0
  timeouts                       = { create = "5m", update = "5m", delete = "5m" }
}

output "environment_name" {
  value = module.mwaa.environment_name
}

output "source_bucket_name" {
  value = module.mwaa.source_bucket_name
}

output "lineage_configuration" {
  value = module.mwaa.lineage_configuration
}

output "lineage_secret_arn" {
  value = module.mwaa.lineage_secret_arn
}

output "requirements_txt" {
  value = module.mwaa.requirements_txt
}

output "plugins_s3_object_version" {
  value = module.mwaa.plugins_s3_object_version
}

output "vpc_id" {
  value = module.mwaa.vpc_id
}

output "vpc_endpoint_ids" {
  value = module.mwaa.vpc_endpoint_ids
}
