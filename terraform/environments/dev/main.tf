# dev: everything on LocalStack (docker-compose.yml). `make` applies this.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "localstack_endpoint" {
  description = "LocalStack as the terraform container sees it."
  type        = string
  default     = "http://localstack:4566"
}

variable "agent_zip" {
  description = "Built by `npm run build:agent`; the repository is mounted at /workspace in the terraform container."
  type        = string
  default     = "../../../dist/traffic-agent.zip"
}

variable "allowed_origins" {
  description = "Origins of the pages that may send visits to the agent's function URL: the local demo pages by default."
  type        = list(string)
  default     = ["http://localhost:8080", "http://127.0.0.1:8080"]
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    sqs    = var.localstack_endpoint
    lambda = var.localstack_endpoint
    iam    = var.localstack_endpoint
    logs   = var.localstack_endpoint
    sts    = var.localstack_endpoint
  }
}

module "traffic" {
  source          = "../../modules/traffic"
  name_prefix     = "dev"
  agent_zip       = var.agent_zip
  allowed_origins = var.allowed_origins
}

output "pipeline" {
  value = module.traffic.pipeline
}

output "agent_function_name" {
  value = module.traffic.agent_function_name
}

# The agent's HTTP entry on LocalStack: POST a visit here (`make` prints it).
output "agent_url" {
  value = module.traffic.agent_url
}
