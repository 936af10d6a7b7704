# The whole traffic stack that every environment shares: the PIPELINE and its DLQ, the agent
# Lambda, and the processor's IAM policy. Environments add their provider and, in prod, the
# processor service.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.19, < 7.0"
    }
  }
}

variable "name_prefix" {
  type = string
}

variable "agent_zip" {
  description = "dist/traffic-agent.zip, built by `npm run build:agent`."
  type        = string
}

module "pipeline" {
  source      = "../pipeline"
  name_prefix = var.name_prefix
}

module "traffic_agent" {
  source      = "../traffic-agent"
  name_prefix = var.name_prefix
  queue_url   = module.pipeline.queue_url
  queue_arn   = module.pipeline.queue_arn
  zip_path    = var.agent_zip
}

module "processor_iam" {
  source      = "../processor-iam"
  name_prefix = var.name_prefix
  queue_arn   = module.pipeline.queue_arn
  dlq_arn     = module.pipeline.dlq_arn
}

output "queue_url" {
  value = module.pipeline.queue_url
}

output "dlq_url" {
  value = module.pipeline.dlq_url
}

output "dlq_arn" {
  value = module.pipeline.dlq_arn
}

output "agent_function_name" {
  value = module.traffic_agent.function_name
}

output "processor_policy_arn" {
  value = module.processor_iam.policy_arn
}
