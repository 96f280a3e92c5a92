output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = module.mwaa.environment_arn
}

output "webserver_https_url" {
  description = "Airflow UI URL."
  value       = module.mwaa.webserver_https_url
}

output "database_vpc_endpoint_id" {
  description = "Interface endpoint to the environment's database."
  value       = aws_vpc_endpoint.database.id
}

output "webserver_vpc_endpoint_id" {
  description = "Interface endpoint to the environment's web server."
  value       = aws_vpc_endpoint.webserver.id
}
