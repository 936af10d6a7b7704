# prod: the same modules against AWS, with the processor as an autoscaled Fargate service.
# State lives in S3: `terraform init -backend-config=...` supplies bucket, key and region.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
  backend "s3" {}
}

variable "region" {
  description = "AWS region of every resource; pass it explicitly (-var region=...) so it matches the ECR image and the state bucket."
  type        = string
  default     = "us-east-1"
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
  description = "The agent bundle built by `npm run build:agent`, relative to this directory."
  type        = string
  default     = "../../../dist/traffic-agent.zip"
}

variable "storage_backend" {
  description = "mysql or cassandra: the processor's storage adapter (STORAGE_BACKEND)."
  type        = string
  default     = "mysql"
}

variable "allowed_origins" {
  description = "Origins of the sites whose pages send visits, e.g. [\"https://www.example.com\"]: CORS on the agent's function URL and the agent's own Origin check (AGENT_ALLOWED_ORIGINS)."
  type        = list(string)
}

variable "agent_reserved_concurrency" {
  description = "Flood cap: at most this many agent invocations at once (beyond it beacons get 429). 50 serve about 2,500 visits/s at ~20 ms each."
  type        = number
  default     = 50
}

variable "min_tasks" {
  description = "Processor tasks always running; fewer for 5 minutes raises the tasks alarm."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Most processor tasks the backlog may scale out to."
  type        = number
  default     = 20
}

variable "oldest_message_age_alarm_seconds" {
  description = "Alarm when the oldest visit waiting on the PIPELINE is older than this many seconds."
  type        = number
  default     = 300
}

variable "alarm_email" {
  description = "E-mail address notified of every alarm (confirm the subscription mail AWS sends); null notifies nobody: subscribe to the alarm_topic_arn output instead."
  type        = string
  default     = null
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
  source                     = "../../modules/traffic"
  name_prefix                = "prod"
  agent_zip                  = var.agent_zip
  allowed_origins            = var.allowed_origins
  agent_reserved_concurrency = var.agent_reserved_concurrency
}

module "processor_service" {
  source               = "../../modules/processor-service"
  name_prefix          = "prod"
  image                = var.processor_image
  queue_url            = module.traffic.pipeline.queue_url
  queue_name           = "prod-traffic-queue"
  dlq_url              = module.traffic.pipeline.dlq_url
  processor_policy_arn = module.traffic.processor_policy_arn
  storage_backend      = var.storage_backend
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids
  cpu_architecture     = var.cpu_architecture
  min_tasks            = var.min_tasks
  max_tasks            = var.max_tasks
}

module "monitoring" {
  source                               = "../../modules/monitoring"
  name_prefix                          = "prod"
  queue_name                           = module.traffic.pipeline.queue_name
  dlq_name                             = module.traffic.pipeline.dlq_name
  agent_function_name                  = module.traffic.agent_function_name
  processor_cluster_name               = module.processor_service.cluster_name
  processor_service_name               = module.processor_service.service_name
  processor_log_group_name             = module.processor_service.log_group_name
  processor_min_tasks                  = module.processor_service.min_tasks
  oldest_message_age_threshold_seconds = var.oldest_message_age_alarm_seconds
  alarm_email                          = var.alarm_email
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

output "pipeline" {
  value = module.traffic.pipeline
}

output "agent_function_name" {
  value = module.traffic.agent_function_name
}

# The agent's HTTP entry: pages load the tracker with this URL; the smoke check posts here.
output "agent_url" {
  value = module.traffic.agent_url
}

output "processor_service" {
  value = module.processor_service.service_name
}

output "processor_cluster" {
  value = module.processor_service.cluster_name
}

output "alarm_topic_arn" {
  value = module.monitoring.alarm_topic_arn
}

output "dashboard_name" {
  value = module.monitoring.dashboard_name
}
