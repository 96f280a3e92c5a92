output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}

output "environment_name" {
  description = "Name of the MWAA environment."
  value       = aws_mwaa_environment.this.name
}

output "webserver_url" {
  description = "Host name of the Airflow UI (https://<webserver_url>)."
  value       = aws_mwaa_environment.this.webserver_url
}

output "webserver_https_url" {
  description = "URL of the Airflow UI (https://<webserver_url>); null until the environment exists."
  value       = aws_mwaa_environment.this.webserver_url == null ? null : "https://${aws_mwaa_environment.this.webserver_url}"
}

output "database_vpc_endpoint_service" {
  description = "VPC endpoint service of the environment's metadata database. With endpoint_management = \"CUSTOMER\" create an interface endpoint to it in private_subnet_ids (see examples/customer-endpoints)."
  value       = aws_mwaa_environment.this.database_vpc_endpoint_service
}

output "webserver_vpc_endpoint_service" {
  description = "VPC endpoint service of the environment's web server. With endpoint_management = \"CUSTOMER\" and PRIVATE_ONLY access create an interface endpoint to it in private_subnet_ids (see examples/customer-endpoints)."
  value       = aws_mwaa_environment.this.webserver_vpc_endpoint_service
}

output "execution_role_arn" {
  description = "ARN of the execution role (created or brought)."
  value       = local.execution_role_arn
}

output "execution_role_policy_json" {
  description = "Least-privilege execution-role policy for this environment; attach it yourself when create_execution_role = false."
  value       = data.aws_iam_policy_document.execution.json
}

output "source_bucket_name" {
  description = "Name of the source bucket (created or brought)."
  value       = local.bucket_name
}

output "source_bucket_arn" {
  description = "ARN of the source bucket."
  value       = local.bucket_name == null ? null : local.bucket_arn
}

output "security_group_id" {
  description = "ID of the security group the module created for the environment."
  value       = aws_security_group.this.id
}

output "vpc_id" {
  description = "ID of the VPC (created or brought)."
  value       = local.vpc_id
}

output "private_subnet_ids" {
  description = "IDs of the two private subnets the environment runs in."
  value       = local.private_subnet_ids
}

output "requirements_s3_path" {
  description = "Key of requirements.txt in the source bucket."
  value       = aws_s3_object.requirements.key
}

output "requirements_s3_object_version" {
  description = "S3 version ID of requirements.txt the environment uses."
  value       = aws_s3_object.requirements.version_id
}

output "plugins_s3_path" {
  description = "Key of plugins.zip in the source bucket."
  value       = aws_s3_object.plugins.key
}

output "plugins_s3_object_version" {
  description = "S3 version ID of plugins.zip the environment uses."
  value       = aws_s3_object.plugins.version_id
}

output "startup_script_s3_path" {
  description = "Key of the startup script in the source bucket (null without startup_script)."
  value       = one(aws_s3_object.startup_script[*].key)
}

output "requirements_txt" {
  description = "Content of the generated requirements.txt."
  value       = local.requirements_txt
}

output "wheel_filename" {
  description = "File name of the wheel inside plugins.zip."
  value       = local.wheel_filename
}

output "lineage_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the lineage credentials (null when none or inline_secrets = true)."
  value       = local.lineage_secret_arn
}

output "lineage_configuration" {
  description = "Every lineage.* option the module sets, with secret values replaced by their aws-secretsmanager: reference (never the secret). Not sensitive."
  value       = local.lineage_configuration
}

output "airflow_configuration_options" {
  description = "The full airflow_configuration_options map sent to MWAA (user options + lineage.*). Sensitive."
  value       = local.airflow_configuration_options
  sensitive   = true
}

output "vpc_endpoint_ids" {
  description = "IDs of the VPC endpoints the module created (create_vpc = true), by service: \"s3\" and each of vpc_interface_endpoints."
  value = merge(
    { for k, e in aws_vpc_endpoint.interface : k => e.id },
    var.create_vpc ? { s3 = one(aws_vpc_endpoint.s3[*].id) } : {},
  )
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways the module created (one per AZ, one, or none: nat_gateway_mode)."
  value       = aws_nat_gateway.this[*].id
}
