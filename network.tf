# Network: bring vpc_id + private_subnet_ids, or create_vpc = true. The created VPC has two private subnets in
# different AZs (MWAA's requirement), each with its own route table, and one of three ways out (nat_gateway_mode):
# - "per_az" (default): a NAT gateway in each AZ's public subnet, so losing one AZ does not cut the other off;
# - "single": one NAT gateway for both AZs (cheaper, one AZ is a single point of failure);
# - "none": no internet at all. MWAA then reaches AWS through VPC endpoints (the S3 gateway endpoint plus the
#   interface endpoints in vpc_interface_endpoints), and requirements must install without PyPI (the wheelhouse
#   in plugins.zip); OpenMetadata and the identity provider must be reachable inside the VPC (peering, TGW, ...).
# An S3 gateway endpoint always keeps bucket traffic off the NAT.

data "aws_availability_zones" "available" {
  count = var.create_vpc && length(var.availability_zones) == 0 ? 1 : 0

  state = "available"
  # Regular zones only: Local and Wavelength Zones (opt-in) lack services MWAA needs.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  azs = length(var.availability_zones) > 0 ? var.availability_zones : var.create_vpc ? slice(one(data.aws_availability_zones.available[*].names), 0, 2) : []

  nat_gateway_count = !var.create_vpc ? 0 : { per_az = 2, single = 1, none = 0 }[var.nat_gateway_mode]
  public_subnets    = var.create_vpc && var.nat_gateway_mode != "none"

  # What MWAA (and the wheel: Secrets Manager, KMS) reaches without internet (MWAA user guide, "Creating the
  # required VPC service endpoints in an Amazon VPC with private routing").
  mwaa_interface_endpoints = ["airflow.api", "airflow.env", "airflow.ops", "sqs", "ecr.api", "ecr.dkr", "kms", "logs", "monitoring", "secretsmanager"]
  interface_endpoints      = !var.create_vpc ? [] : coalesce(var.vpc_interface_endpoints, var.nat_gateway_mode == "none" ? local.mwaa_interface_endpoints : [])
}

resource "aws_vpc" "this" {
  count = var.create_vpc ? 1 : 0
  #checkov:skip=CKV2_AWS_11:VPC flow logs need a log destination and retention policy the caller owns.
  #checkov:skip=CKV2_AWS_12:The default security group is locked down (no rules) by aws_default_security_group.this below; checkov's graph does not follow its count-indexed vpc_id.

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # private DNS of the interface endpoints
  tags                 = merge(local.tags, { Name = "${var.name}-mwaa" })
}

# Lock down the default security group (nothing uses it).
resource "aws_default_security_group" "this" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-default" })
}

resource "aws_subnet" "private" {
  count = var.create_vpc ? 2 : 0

  vpc_id            = aws_vpc.this[0].id
  cidr_block        = var.private_subnet_cidrs[count.index]
  availability_zone = local.azs[count.index]
  tags              = merge(local.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_subnet" "public" {
  count = local.public_subnets ? 2 : 0

  vpc_id            = aws_vpc.this[0].id
  cidr_block        = var.public_subnet_cidrs[count.index]
  availability_zone = local.azs[count.index]
  tags              = merge(local.tags, { Name = "${var.name}-public-${local.azs[count.index]}" })
}

resource "aws_internet_gateway" "this" {
  count = local.public_subnets ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-mwaa" })
}

resource "aws_eip" "nat" {
  count = local.nat_gateway_count

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-nat-${local.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_gateway_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(local.tags, { Name = "${var.name}-nat-${local.azs[count.index]}" })
}

resource "aws_route_table" "public" {
  count = local.public_subnets ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  count = local.public_subnets ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = local.public_subnets ? 2 : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

# One route table per private subnet: each AZ leaves through its own NAT gateway (or the single one).
resource "aws_route_table" "private" {
  count = var.create_vpc ? 2 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = local.nat_gateway_count > 0 ? 2 : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[min(count.index, local.nat_gateway_count - 1)].id
}

resource "aws_route_table_association" "private" {
  count = var.create_vpc ? 2 : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_vpc_endpoint" "s3" {
  count = var.create_vpc ? 1 : 0

  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  tags              = merge(local.tags, { Name = "${var.name}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(local.interface_endpoints)

  vpc_id              = aws_vpc.this[0].id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
  tags                = merge(local.tags, { Name = "${var.name}-${each.value}" })
}

# The interface endpoints accept HTTPS from the environment's group only.
resource "aws_security_group" "endpoints" {
  count = length(local.interface_endpoints) > 0 ? 1 : 0
  #checkov:skip=CKV2_AWS_5:Attached to every aws_vpc_endpoint.interface (for_each); checkov's graph does not follow the count-indexed reference.

  name_prefix = substr("${var.name}-endpoints-", 0, 100)
  description = "VPC interface endpoints of MWAA environment ${var.name}: HTTPS from the environment"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-endpoints" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints" {
  count = length(local.interface_endpoints) > 0 ? 1 : 0

  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the MWAA environment"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
}

# MWAA's own group: its components talk to each other (self-referencing ingress) and reach out through the NAT.
resource "aws_security_group" "this" {
  name_prefix = substr("${var.name}-mwaa-", 0, 100)
  description = "MWAA environment ${var.name}: traffic between its components, egress to AWS APIs, PyPI and OpenMetadata"
  vpc_id      = local.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-mwaa" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "self" {
  security_group_id            = aws_security_group.this.id
  description                  = "MWAA components of this environment"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_vpc_security_group_egress_rule" "all" {
  #checkov:skip=CKV_AWS_382:MWAA needs egress to AWS APIs, PyPI (requirements install), OpenMetadata and the identity provider, whose addresses are not known here.
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs, PyPI, OpenMetadata, identity provider"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# The Airflow UI through the web server endpoint (PRIVATE_ONLY): HTTPS from the networks and groups the caller names.
resource "aws_vpc_security_group_ingress_rule" "webserver_cidr" {
  for_each = toset(var.webserver_ingress_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "Airflow UI (HTTPS) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "webserver_group" {
  for_each = toset(var.webserver_ingress_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Airflow UI (HTTPS) from ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = each.value
}
