# Customer-managed VPC endpoints (endpoint_management = "CUSTOMER"), e.g. in a VPC shared from another account: MWAA
# waits in PENDING until the caller has created interface endpoints to the environment's database and web server
# endpoint services, which the module outputs once the environment exists.

provider "aws" {
  region = var.region
}

module "mwaa" {
  source = "../.."

  name                                 = var.name
  vpc_id                               = var.vpc_id
  private_subnet_ids                   = var.private_subnet_ids
  endpoint_management                  = "CUSTOMER"
  webserver_access_mode                = "PRIVATE_ONLY"
  webserver_ingress_security_group_ids = var.ui_security_group_ids

  openmetadata = {
    api_endpoint       = var.openmetadata_api_endpoint
    auth_provider_type = "openmetadata"
  }
  openmetadata_credentials = { jwt_token = var.openmetadata_jwt_token } # ephemeral: Secrets Manager only

  tags = { example = "customer-endpoints" }
}

# The endpoints MWAA waits for, in the environment's subnets, behind its security group.
resource "aws_vpc_endpoint" "database" {
  vpc_id              = var.vpc_id
  service_name        = module.mwaa.database_vpc_endpoint_service
  vpc_endpoint_type   = "Interface"
  subnet_ids          = module.mwaa.private_subnet_ids
  security_group_ids  = [module.mwaa.security_group_id]
  private_dns_enabled = false
  tags                = { example = "customer-endpoints", Name = "${var.name}-database" }
}

resource "aws_vpc_endpoint" "webserver" {
  vpc_id              = var.vpc_id
  service_name        = module.mwaa.webserver_vpc_endpoint_service
  vpc_endpoint_type   = "Interface"
  subnet_ids          = module.mwaa.private_subnet_ids
  security_group_ids  = [module.mwaa.security_group_id]
  private_dns_enabled = false
  tags                = { example = "customer-endpoints", Name = "${var.name}-webserver" }
}
