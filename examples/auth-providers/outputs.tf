output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = module.mwaa.environment_arn
}

output "lineage_configuration" {
  description = "The lineage.* options (secrets shown as references)."
  value       = module.mwaa.lineage_configuration
}

output "requirements_txt" {
  description = "The generated requirements.txt (shows the wheel extra the provider needs)."
  value       = module.mwaa.requirements_txt
}
