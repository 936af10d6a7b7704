# The whole traffic stack that every environment shares: the PIPELINE and its DLQ, the agent
# Lambda, and the processor's IAM policy. Environments add their provider and, in prod, the
# processor service.

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

variable "agent_zip" {
  description = "dist/traffic-agent.zip, built by `npm run build:agent`."
  type        = string
}

variable "allowed_origins" {
  description = "Site origins allowed to send visits to the agent's function URL (CORS and AGENT_ALLOWED_ORIGINS)."
  type        = list(string)
}

variable "agent_reserved_concurrency" {
  description = "Flood cap of the agent: its reserved concurrent executions."
  type        = number
  default     = 50
}

variable "cors_max_age_seconds" {
  description = "How long a browser may cache the function URL's preflight answer."
  type        = number
  default     = 7200
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

  allowed_origins      = var.allowed_origins
  reserved_concurrency = var.agent_reserved_concurrency
  cors_max_age_seconds = var.cors_max_age_seconds
}

module "processor_iam" {
  source      = "../processor-iam"
  name_prefix = var.name_prefix
  queue_arn   = module.pipeline.queue_arn
  dlq_arn     = module.pipeline.dlq_arn
}

# The queue pair as one object: queue_url, queue_arn, queue_name, dlq_url, dlq_arn, dlq_name.
output "pipeline" {
  value = module.pipeline
}

output "agent_function_name" {
  value = module.traffic_agent.function_name
}

output "agent_url" {
  value = module.traffic_agent.function_url
}

output "processor_policy_arn" {
  value = module.processor_iam.policy_arn
}
