# The PIPELINE: a standard SQS queue with a dead-letter queue. SQS is the durable store:
# the processor deletes a message only after its visit is written, and a message received
# max_receive_count times without being deleted is moved to the DLQ by SQS itself.

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
  description = "Environment prefix: queues are <prefix>-traffic-queue and <prefix>-traffic-queue-dlq."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Lease of a received message. The processor extends it every third of it while a write runs, so it must equal the processor's VISIBILITY_TIMEOUT_SECONDS."
  type        = number
  default     = 30
}

variable "max_receive_count" {
  description = "Receives before SQS moves a message to the DLQ. The processor releases a batch whose writes keep failing, so each release counts one receive."
  type        = number
  default     = 5
}

variable "message_retention_seconds" {
  description = "How long a visit may wait on the PIPELINE (4 days, the SQS default)."
  type        = number
  default     = 345600
}

variable "dlq_retention_seconds" {
  description = "How long rejected traffic stays inspectable and redrivable (14 days, the SQS maximum)."
  type        = number
  default     = 1209600
}

variable "tags" {
  type    = map(string)
  default = {}
}

# Both queues take SQS's largest message (1 MiB, settable from provider 6.8): the DLQ must hold
# any body the PIPELINE accepted, plus the reason attributes the processor adds to its copy.
resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name_prefix}-traffic-queue-dlq"
  message_retention_seconds = var.dlq_retention_seconds
  max_message_size          = 1048576
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "pipeline" {
  name                       = "${var.name_prefix}-traffic-queue"
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  max_message_size           = 1048576
  sqs_managed_sse_enabled    = true
  tags                       = var.tags
}

resource "aws_sqs_queue_redrive_policy" "pipeline" {
  queue_url = aws_sqs_queue.pipeline.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

# Only the PIPELINE may dead-letter into this DLQ.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.pipeline.arn]
  })
}

output "queue_url" {
  value = aws_sqs_queue.pipeline.id
}

output "queue_arn" {
  value = aws_sqs_queue.pipeline.arn
}

output "dlq_url" {
  value = aws_sqs_queue.dlq.id
}

output "dlq_arn" {
  value = aws_sqs_queue.dlq.arn
}

output "queue_name" {
  value = aws_sqs_queue.pipeline.name
}

output "dlq_name" {
  value = aws_sqs_queue.dlq.name
}
