output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = module.mwaa.environment_arn
}

output "webserver_url" {
  description = "Airflow UI host."
  value       = module.mwaa.webserver_url
}

output "vpc_id" {
  description = "The created VPC."
  value       = module.mwaa.vpc_id
}

output "kms_key_arn" {
  description = "The customer key used for bucket, environment, logs and the lineage secret."
  value       = aws_kms_key.this.arn
}

output "lineage_configuration" {
  description = "The lineage.* options (secrets shown as references)."
  value       = module.mwaa.lineage_configuration
}
