# prod: the same modules against AWS, with the processor as an autoscaled Fargate service.
# State lives in S3: `terraform init -backend-config=...` supplies bucket, key and region.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.19, < 7.0"
    }
  }
  backend "s3" {}
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "processor_image" {
  description = "Processor image pinned by digest, e.g. <account>.dkr.ecr.<region>.amazonaws.com/traffic-processor@sha256:..."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the tasks. They must reach ECR, S3, CloudWatch Logs and SQS: through a NAT gateway, or through the VPC endpoints create_vpc_endpoints adds."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks: egress 443 to AWS (or to the VPC endpoints); no ingress is needed (9464 only for a scraper)."
  type        = list(string)
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64: the platform the processor image was built for."
  type        = string
  default     = "X86_64"
}

variable "create_vpc_endpoints" {
  description = "Create VPC endpoints (ECR API and registry, CloudWatch Logs, SQS, S3 gateway) so private subnets without a NAT gateway reach what the tasks need. Needs vpc_id and private_route_table_ids."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC of subnet_ids; required when create_vpc_endpoints is true."
  type        = string
  default     = null
  validation {
    condition     = !var.create_vpc_endpoints || var.vpc_id != null
    error_message = "create_vpc_endpoints = true needs vpc_id."
  }
}

variable "private_route_table_ids" {
  description = "Route tables of subnet_ids, for the S3 gateway endpoint; required when create_vpc_endpoints is true."
  type        = list(string)
  default     = []
  validation {
    condition     = !var.create_vpc_endpoints || length(var.private_route_table_ids) > 0
    error_message = "create_vpc_endpoints = true needs private_route_table_ids (the S3 gateway endpoint serves image layers)."
  }
}

variable "agent_zip" {
  type    = string
  default = "../../../dist/traffic-agent.zip"
}

variable "storage_backend" {
  type    = string
  default = "mysql"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      project     = "traffic"
      environment = "prod"
    }
  }
}

module "traffic" {
  source      = "../../modules/traffic"
  name_prefix = "prod"
  agent_zip   = var.agent_zip
}

module "processor_service" {
  source               = "../../modules/processor-service"
  name_prefix          = "prod"
  image                = var.processor_image
  queue_url            = module.traffic.queue_url
  queue_name           = "prod-traffic-queue"
  dlq_url              = module.traffic.dlq_url
  processor_policy_arn = module.traffic.processor_policy_arn
  storage_backend      = var.storage_backend
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids
  cpu_architecture     = var.cpu_architecture
}

module "vpc_endpoints" {
  source                    = "../../modules/vpc-endpoints"
  count                     = var.create_vpc_endpoints ? 1 : 0
  name_prefix               = "prod"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.subnet_ids
  route_table_ids           = var.private_route_table_ids
  client_security_group_ids = var.security_group_ids
}

output "queue_url" {
  value = module.traffic.queue_url
}

output "agent_function_name" {
  value = module.traffic.agent_function_name
}

output "processor_service" {
  value = module.processor_service.service_name
}

output "processor_cluster" {
  value = module.processor_service.cluster_name
}
