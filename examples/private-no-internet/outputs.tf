output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = module.mwaa.environment_arn
}

output "webserver_https_url" {
  description = "Airflow UI URL (reachable from ui_cidr_blocks through the VPC)."
  value       = module.mwaa.webserver_https_url
}

output "vpc_id" {
  description = "The VPC the module created."
  value       = module.mwaa.vpc_id
}

output "vpc_endpoint_ids" {
  description = "Interface endpoints the module created, by service."
  value       = module.mwaa.vpc_endpoint_ids
}

output "lineage_configuration" {
  description = "The lineage.* options (secrets shown as references)."
  value       = module.mwaa.lineage_configuration
}
