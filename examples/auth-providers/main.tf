# One environment per call, any auth provider: pick a *.tfvars.example, copy it to terraform.tfvars and fill it
# in (google, auth0, azure, custom-oidc). Credentials go to Secrets Manager (write-only) unless inline_secrets = true.

provider "aws" {
  region = var.region
}

module "mwaa" {
  source = "../.."

  name               = var.name
  airflow_version    = var.airflow_version
  vpc_id             = var.vpc_id
  private_subnet_ids = var.private_subnet_ids
  openmetadata       = var.openmetadata
  inline_secrets     = var.inline_secrets
  # Ephemeral: written to Secrets Manager only (null with inline_secrets = true, the secrets are then in openmetadata).
  openmetadata_credentials         = var.openmetadata_credentials
  openmetadata_credentials_version = var.openmetadata_credentials_version

  tags = { example = "auth-providers" }
}
