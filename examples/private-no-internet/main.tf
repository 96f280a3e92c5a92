# No internet at all: the module creates the VPC without NAT or internet gateway; MWAA and the wheel reach AWS
# through VPC endpoints (S3 gateway; airflow.api/env/ops, sqs, ecr.api, ecr.dkr, kms, logs, monitoring,
# secretsmanager interface endpoints). Requirements must install without PyPI: the wheel and its dependencies
# come from plugins.zip (`make artifacts`), and OpenMetadata plus the identity provider must be reachable from
# inside the VPC (peering, Transit Gateway, PrivateLink).

provider "aws" {
  region = var.region
}

module "mwaa" {
  source = "../.."

  name                 = var.name
  create_vpc           = true
  nat_gateway_mode     = "none"
  vpc_cidr             = "10.42.0.0/16"
  private_subnet_cidrs = ["10.42.0.0/20", "10.42.16.0/20"]

  # The UI through the web server endpoint, from the corporate network only.
  webserver_access_mode         = "PRIVATE_ONLY"
  webserver_ingress_cidr_blocks = var.ui_cidr_blocks

  openmetadata = {
    api_endpoint       = var.openmetadata_api_endpoint
    auth_provider_type = "custom-oidc"
    client_id          = var.oidc_client_id
    token_endpoint     = var.oidc_token_endpoint
  }
  # Ephemeral: written to Secrets Manager only (reached through its VPC endpoint at run time).
  openmetadata_credentials = { secret_key = var.oidc_client_secret }

  tags = { example = "private-no-internet" }
}
