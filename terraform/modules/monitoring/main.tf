# Watching the pipeline on AWS: alarms that notify one SNS topic, the processor's own counters
# turned into CloudWatch metrics by metric filters on its JSON logs (no sidecar, no agent, no
# code in the processor), and one dashboard. Used by prod only: dev has no ECS service and no
# processor log group (the processor runs in docker compose, logging to its terminal), ECS is
# not in LocalStack's free image, and an alarm on LocalStack notifies nobody.

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

variable "queue_name" {
  description = "The PIPELINE queue."
  type        = string
}

variable "dlq_name" {
  description = "The PIPELINE's dead-letter queue."
  type        = string
}

variable "agent_function_name" {
  type = string
}

variable "processor_cluster_name" {
  type = string
}

variable "processor_service_name" {
  type = string
}

variable "processor_log_group_name" {
  description = "The processor tasks' log group (JSON lines, LOG_JSON=1): the metric filters read it."
  type        = string
}

variable "processor_min_tasks" {
  description = "The service's minimum task count: fewer running tasks than this for alarm_minutes is an alarm."
  type        = number
}

variable "oldest_message_age_threshold_seconds" {
  description = "Alarm when the oldest visit waiting on the PIPELINE is older than this: the processor is not keeping up or not running."
  type        = number
  default     = 300
  validation {
    condition     = var.oldest_message_age_threshold_seconds >= 60
    error_message = "oldest_message_age_threshold_seconds must be at least 60 (SQS publishes the metric every minute)."
  }
}

variable "alarm_minutes" {
  description = "Minutes a condition must hold before the age, agent and task alarms fire (the DLQ alarm fires on the first minute)."
  type        = number
  default     = 5
  validation {
    condition     = var.alarm_minutes >= 1 && var.alarm_minutes <= 60
    error_message = "alarm_minutes must be between 1 and 60."
  }
}

variable "alarm_email" {
  description = "An address subscribed to the alarm topic (it must confirm the subscription e-mail); null subscribes nobody."
  type        = string
  default     = null
  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}

data "aws_region" "current" {}

locals {
  # The processor's counters, one namespace per environment.
  namespace = "Traffic/${var.name_prefix}"
  period    = 60
}

# Every alarm notifies this topic, on alarm and on recovery. Not encrypted with the AWS-managed
# SNS key: CloudWatch cannot publish to a topic encrypted with it (a customer key whose policy
# admits cloudwatch.amazonaws.com would be needed).
resource "aws_sns_topic" "alarms" {
  name = "${var.name_prefix}-traffic-alarms"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- The processor's counters, from its JSON log lines ---------------------------------------
# Each pattern names the fields its value and dimensions read, so a line without them is not
# counted. The lines are written by src/processor/storage/echo.ts (`write`, one per batch),
# src/processor/runtime/report.ts (dead-letters, retries) and src/processor/runtime/stats-log.ts (`stats`).

# One `write` line per batch written, with the type's table and its row count: visits written
# per type (VisitsWritten, from the stats line, is the total of all types).
resource "aws_cloudwatch_log_metric_filter" "batches_written" {
  name           = "${var.name_prefix}-traffic-batches-written"
  log_group_name = var.processor_log_group_name
  pattern        = "{ $.msg = \"write\" && $.table = * && $.count >= 0 }"
  metric_transformation {
    name       = "VisitsWrittenByTable"
    namespace  = local.namespace
    value      = "$.count"
    unit       = "Count"
    dimensions = { Table = "$.table" }
  }
}

# The `stats` line: visits written since the previous line (every minute), all types.
resource "aws_cloudwatch_log_metric_filter" "visits_written" {
  name           = "${var.name_prefix}-traffic-visits-written"
  log_group_name = var.processor_log_group_name
  pattern        = "{ $.msg = \"stats\" && $.written >= 0 }"
  metric_transformation {
    name      = "VisitsWritten"
    namespace = local.namespace
    value     = "$.written"
    unit      = "Count"
  }
}

# One line per message sent to the DLQ, with its reason code (invalid_type, malformed_json,
# write_failed, ...). Only dead-letter lines carry both messageId and error_code.
resource "aws_cloudwatch_log_metric_filter" "dead_lettered" {
  name           = "${var.name_prefix}-traffic-dead-lettered"
  log_group_name = var.processor_log_group_name
  pattern        = "{ $.messageId = * && $.error_code = * }"
  metric_transformation {
    name       = "DeadLettered"
    namespace  = local.namespace
    value      = "1"
    unit       = "Count"
    dimensions = { Reason = "$.error_code" }
  }
}

# One line per failed write that will be retried, with its visit type.
resource "aws_cloudwatch_log_metric_filter" "write_retries" {
  name           = "${var.name_prefix}-traffic-write-retries"
  log_group_name = var.processor_log_group_name
  pattern        = "{ $.msg = \"write failed, retrying\" && $.type = * }"
  metric_transformation {
    name       = "WriteRetries"
    namespace  = local.namespace
    value      = "1"
    unit       = "Count"
    dimensions = { Type = "$.type" }
  }
}

# --- Alarms ----------------------------------------------------------------------------------

# Anything on the DLQ is a visit that was not written: invalid, or storage kept refusing it.
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${var.name_prefix}-traffic-dlq-not-empty"
  alarm_description   = "Messages wait on the PIPELINE DLQ: read their error_code / error_message attributes, fix, then redrive (npm run redrive)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dlq_name }
  statistic           = "Maximum"
  period              = local.period
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name          = "${var.name_prefix}-traffic-oldest-message-age"
  alarm_description   = "The oldest visit on the PIPELINE is older than ${var.oldest_message_age_threshold_seconds} s: the processor is behind, stalled or not running."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = var.queue_name }
  statistic           = "Maximum"
  period              = local.period
  evaluation_periods  = var.alarm_minutes
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_age_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "agent_errors" {
  alarm_name          = "${var.name_prefix}-traffic-agent-errors"
  alarm_description   = "The agent Lambda failed invocations (its log group has the error): visits are being lost at the entry."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.agent_function_name }
  statistic           = "Sum"
  period              = local.period * var.alarm_minutes
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# Throttles are the flood cap at work (reserved concurrency reached): beacons answered 429.
resource "aws_cloudwatch_metric_alarm" "agent_throttles" {
  alarm_name          = "${var.name_prefix}-traffic-agent-throttles"
  alarm_description   = "The agent hit its reserved concurrency: visits are refused with 429. A flood, or traffic outgrew agent_reserved_concurrency."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.agent_function_name }
  statistic           = "Sum"
  period              = local.period * var.alarm_minutes
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# Container Insights publishes the service's running task count every minute; no data means no
# task reports (or Insights is off), which is itself a reason to look.
resource "aws_cloudwatch_metric_alarm" "processor_tasks_below_min" {
  alarm_name          = "${var.name_prefix}-traffic-processor-tasks-below-min"
  alarm_description   = "Fewer than ${var.processor_min_tasks} processor tasks running: tasks crash or fail their /healthz check (see the service events and the log group)."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = var.processor_cluster_name, ServiceName = var.processor_service_name }
  statistic           = "Minimum"
  period              = local.period
  evaluation_periods  = var.alarm_minutes
  comparison_operator = "LessThanThreshold"
  threshold           = var.processor_min_tasks
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# --- Dashboard -------------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "traffic" {
  dashboard_name = "${var.name_prefix}-traffic"
  dashboard_body = templatefile("${path.module}/dashboard.json.tftpl", {
    region                 = data.aws_region.current.region
    namespace              = local.namespace
    queue_name             = var.queue_name
    dlq_name               = var.dlq_name
    agent_function_name    = var.agent_function_name
    processor_cluster_name = var.processor_cluster_name
    processor_service_name = var.processor_service_name
  })
}

output "alarm_topic_arn" {
  description = "Subscribe more endpoints (chat, paging) to this topic."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  value = aws_cloudwatch_dashboard.traffic.dashboard_name
}
