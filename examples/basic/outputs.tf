output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = module.mwaa.environment_arn
}

output "webserver_url" {
  description = "Airflow UI host."
  value       = module.mwaa.webserver_url
}

output "source_bucket_name" {
  description = "Bucket holding DAGs, plugins.zip and requirements.txt."
  value       = module.mwaa.source_bucket_name
}

output "lineage_configuration" {
  description = "The lineage.* options (secrets shown as references)."
  value       = module.mwaa.lineage_configuration
}
