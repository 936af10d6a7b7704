# prod: the same modules against AWS, with the processor as an autoscaled Fargate service.
# State lives in S3: `terraform init -backend-config=...` supplies bucket, key and region.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
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
  description = "Private subnets with a route to SQS (NAT or a VPC endpoint)."
  type        = list(string)
}

variable "security_group_ids" {
  type = list(string)
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
