# What Fargate tasks in private subnets without a NAT gateway need to reach AWS: ECR (API and
# image layers, which ECR serves from S3), CloudWatch Logs (the awslogs driver) and SQS (the
# processor itself). Interface endpoints with private DNS, so the default AWS hostnames resolve
# to them and nothing in the task changes; S3 as a gateway endpoint on the route tables.
# Subnets that route to a NAT gateway need none of this.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "name_prefix" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "The private subnets the tasks run in: one interface endpoint network interface per subnet."
  type        = list(string)
}

variable "route_table_ids" {
  description = "Route tables of those subnets, for the S3 gateway endpoint."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups of the tasks: they may reach the endpoints on 443 (and must allow that egress)."
  type        = list(string)
}

variable "tags" {
  type    = map(string)
  default = {}
}

data "aws_region" "current" {}

locals {
  # ecr.api: authentication and manifests; ecr.dkr: the registry; logs: awslogs; sqs: the queue.
  interface_services = toset(["ecr.api", "ecr.dkr", "logs", "sqs"])
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-traffic-endpoints"
  description = "HTTPS from the traffic processor tasks to the VPC interface endpoints"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "https_from_tasks" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.endpoints.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "HTTPS from the traffic processor tasks"
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_services
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  tags                = merge(var.tags, { Name = "${var.name_prefix}-traffic-${each.value}" })
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids
  tags              = merge(var.tags, { Name = "${var.name_prefix}-traffic-s3" })
}

output "interface_endpoint_ids" {
  value = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "s3_endpoint_id" {
  value = aws_vpc_endpoint.s3.id
}
