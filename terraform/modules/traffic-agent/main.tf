# The Traffic Agent Lambda (zip from `npm run build:agent`), its own DLQ for failed
# asynchronous invokes, its log group, a role that may only enqueue on the PIPELINE, and its
# HTTP entry: a public function URL (CORS for the site origins) that pages' beacons reach.

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

variable "queue_url" {
  description = "PIPELINE queue URL, passed to the function as TRAFFIC_QUEUE_URL."
  type        = string
}

variable "queue_arn" {
  type = string
}

variable "zip_path" {
  description = "dist/traffic-agent.zip, built by `npm run build:agent`."
  type        = string
}

variable "timeout_seconds" {
  type    = number
  default = 10
}

variable "memory_mb" {
  type    = number
  default = 256
}

variable "log_retention_days" {
  type    = number
  default = 14
}

variable "allowed_origins" {
  description = "Site origins (scheme://host[:port], no path) whose pages may send visits. The function URL answers their CORS preflights; the agent gets the same list as AGENT_ALLOWED_ORIGINS and refuses a POST from any other Origin (a beacon is a simple request: browsers send it without a preflight)."
  type        = list(string)
  validation {
    condition     = length(var.allowed_origins) > 0 && length(var.allowed_origins) <= 100
    error_message = "allowed_origins needs between 1 and 100 origins (the function URL's CORS limit)."
  }
  validation {
    condition     = alltrue([for origin in var.allowed_origins : can(regex("^https?://[^/*,\\s]+$", origin)) && length(origin) <= 253])
    error_message = "Each allowed origin is scheme://host[:port]: http or https, no path, no trailing slash, no wildcard, no comma (the agent reads a comma-separated list)."
  }
}

variable "cors_max_age_seconds" {
  description = "How long a browser may cache a preflight answer (at most 86400)."
  type        = number
  default     = 7200
  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be between 0 and 86400."
  }
}

variable "reserved_concurrency" {
  description = "Flood cap: the most agent invocations running at once. Beyond it the function URL answers 429 and the visit is dropped, so a flood cannot run up the bill or starve the account's other functions. At ~20 ms per warm invocation, 50 serve about 2,500 visits/s. The account must keep 100 unreserved (new accounts may have a total limit below that: ask for a quota increase or lower this)."
  type        = number
  default     = 50
  validation {
    condition     = var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number >= 1 (0 would stop the agent)."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  function_name = "${var.name_prefix}-traffic-agent"
}

resource "aws_sqs_queue" "agent_dlq" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_cloudwatch_log_group" "agent" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_caller_identity" "current" {}

# Only Lambda acting for this account may assume the role (confused-deputy protection).
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "agent" {
  name               = "${local.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "agent" {
  statement {
    sid       = "EnqueueVisits"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "KeepFailedAsyncInvokes"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.agent_dlq.arn]
  }
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.agent.arn}:*"]
  }
}

resource "aws_iam_role_policy" "agent" {
  name   = "${local.function_name}-policy"
  role   = aws_iam_role.agent.id
  policy = data.aws_iam_policy_document.agent.json
}

resource "aws_lambda_function" "agent" {
  function_name    = local.function_name
  role             = aws_iam_role.agent.arn
  runtime          = "nodejs24.x"
  handler          = "index.handler"
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  timeout          = var.timeout_seconds
  memory_size      = var.memory_mb

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = {
      TRAFFIC_QUEUE_URL     = var.queue_url
      AGENT_ALLOWED_ORIGINS = join(",", var.allowed_origins)
      LOG_LEVEL             = "info"
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.agent_dlq.arn
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.agent, aws_iam_role_policy.agent]
}

# The HTTP entry. NONE: visitors are anonymous; the agent checks Origin and the body, and the
# reserved concurrency caps a flood. CORS answers preflights without invoking the function.
# allow_methods takes only GET, PUT, HEAD, POST, PATCH, DELETE or * (OPTIONS cannot be listed):
# the function URL answers OPTIONS preflights itself from this block.
resource "aws_lambda_function_url" "agent" {
  function_name      = aws_lambda_function.agent.function_name
  authorization_type = "NONE"

  cors {
    allow_origins     = var.allowed_origins
    allow_methods     = ["POST"]
    allow_headers     = ["content-type"]
    allow_credentials = false
    max_age           = var.cors_max_age_seconds
  }
}

# A public function URL needs both statements since October 2025: InvokeFunctionUrl for
# auth type NONE, and InvokeFunction only when the call comes through the function URL (so the
# function cannot be invoked directly by anyone). The provider (>= 6.28) may add equivalent
# statements itself when it creates the URL, untracked; these are the ones Terraform owns, under
# their own statement ids.
resource "aws_lambda_permission" "public_url" {
  statement_id           = "TrafficAgentPublicUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.agent.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "public_url_invoke" {
  statement_id             = "TrafficAgentInvokeViaUrl"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.agent.function_name
  principal                = "*"
  invoked_via_function_url = true
}

output "function_url" {
  description = "The agent's HTTP entry (https://<id>.lambda-url.<region>.on.aws/; on LocalStack http://<id>.lambda-url.<region>.localhost.localstack.cloud:4566/)."
  value       = aws_lambda_function_url.agent.function_url
}

output "function_name" {
  value = aws_lambda_function.agent.function_name
}

output "function_arn" {
  value = aws_lambda_function.agent.arn
}

output "agent_dlq_url" {
  value = aws_sqs_queue.agent_dlq.id
}
