# The Traffic Agent Lambda (zip from `npm run build:agent`), its own DLQ for failed
# asynchronous invokes, its log group, and a role that may only enqueue on the PIPELINE.

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

  environment {
    variables = {
      TRAFFIC_QUEUE_URL = var.queue_url
      LOG_LEVEL         = "info"
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.agent_dlq.arn
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.agent, aws_iam_role_policy.agent]
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
