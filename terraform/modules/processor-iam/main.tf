# What the Traffic Processor may do, and nothing wider: drain the PIPELINE and
# dead-letter invalid traffic into its DLQ. Batch calls (DeleteMessageBatch,
# ChangeMessageVisibilityBatch, SendMessageBatch) are authorised by the singular actions.

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

variable "queue_arn" {
  type = string
}

variable "dlq_arn" {
  type = string
}

data "aws_iam_policy_document" "processor" {
  statement {
    sid = "DrainPipeline"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "DeadLetterInvalidTraffic"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
    resources = [var.dlq_arn]
  }
}

resource "aws_iam_policy" "processor" {
  name        = "${var.name_prefix}-traffic-processor"
  description = "Traffic Processor: drain the PIPELINE, dead-letter invalid traffic."
  policy      = data.aws_iam_policy_document.processor.json
}

output "policy_arn" {
  value = aws_iam_policy.processor.arn
}
