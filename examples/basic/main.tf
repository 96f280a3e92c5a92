# Smallest useful setup: an existing VPC (two private subnets with NAT), OpenMetadata with a bot JWT kept in
# Secrets Manager. Build the artifacts first: `make artifacts` in the module's folder.

provider "aws" {
  region = var.region
}

module "mwaa" {
  source = "../.."

  name               = var.name
  vpc_id             = var.vpc_id
  private_subnet_ids = var.private_subnet_ids

  openmetadata = {
    api_endpoint       = var.openmetadata_api_endpoint
    auth_provider_type = "openmetadata"
  }
  # Ephemeral: written to Secrets Manager only, never to the state or the plan. Bump the version to rotate it.
  openmetadata_credentials         = { jwt_token = var.openmetadata_jwt_token }
  openmetadata_credentials_version = var.openmetadata_jwt_token_version

  tags = { example = "basic" }
}
