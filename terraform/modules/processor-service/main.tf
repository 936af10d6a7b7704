# Production: the Traffic Processor as N identical Fargate tasks on the same queue (SQS is
# the distributed engine), scaled on backlog per task: visible messages / running tasks. The
# running-task count comes from Container Insights, which the cluster turns on: without it the
# metric has no data and the scaling alarms stay at INSUFFICIENT_DATA.

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

variable "image" {
  description = "Processor image built from the repository's Dockerfile (its CMD starts the processor, its HEALTHCHECK script is reused below), pinned by digest."
  type        = string
}

variable "cpu_architecture" {
  description = "CPU architecture the image was built for: X86_64 (docker build --platform linux/amd64) or ARM64 (linux/arm64, Graviton). A mismatch fails every task with `exec format error`."
  type        = string
  default     = "X86_64"
  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "queue_url" {
  type = string
}

variable "queue_name" {
  type = string
}

variable "dlq_url" {
  type = string
}

variable "processor_policy_arn" {
  type = string
}

variable "storage_backend" {
  type    = string
  default = "mysql"
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "min_tasks" {
  type    = number
  default = 2
}

variable "max_tasks" {
  type    = number
  default = 20
}

variable "backlog_per_task_target" {
  description = "Visible messages one task drains within the acceptable delay (its throughput x seconds of latency allowed)."
  type        = number
  default     = 20000
}

variable "shutdown_grace_ms" {
  description = "Drain time on SIGTERM; ECS stop_timeout leaves 5 s more."
  type        = number
  default     = 25000
}

variable "tags" {
  type    = map(string)
  default = {}
}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  name = "${var.name_prefix}-traffic-processor"
}

resource "aws_ecs_cluster" "traffic" {
  name = "${var.name_prefix}-traffic"
  # Publishes ECS/ContainerInsights RunningTaskCount, the divisor of the backlog-per-task policy.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "processor" {
  name              = "/ecs/${local.name}"
  retention_in_days = 30
  tags              = var.tags
}

# Only ECS acting for this account may assume the roles (confused-deputy protection).
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:aws:ecs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

# The task's own identity: only the processor policy.
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "task_processor" {
  role       = aws_iam_role.task.name
  policy_arn = var.processor_policy_arn
}

# What ECS needs to pull the image and ship logs.
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_ecs_task_definition" "processor" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # No command: the image's CMD (the flags of `npm start`) is the one way the processor starts.
  container_definitions = jsonencode([{
    name        = "processor"
    image       = var.image
    essential   = true
    stopTimeout = ceil(var.shutdown_grace_ms / 1000) + 5
    # The image's HEALTHCHECK, which ECS does not read from the image: GET /healthz on METRICS_PORT.
    healthCheck = {
      command     = ["CMD", "node", "src/processor/runtime/healthcheck.ts"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    environment = [
      { name = "TRAFFIC_QUEUE_URL", value = var.queue_url },
      { name = "TRAFFIC_DLQ_URL", value = var.dlq_url },
      { name = "STORAGE_BACKEND", value = var.storage_backend },
      { name = "SHUTDOWN_GRACE_MS", value = tostring(var.shutdown_grace_ms) },
      { name = "LOG_JSON", value = "1" },
      { name = "METRICS_PORT", value = "9464" },
    ]
    portMappings = [{ containerPort = 9464, protocol = "tcp" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.processor.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = "processor"
      }
    }
  }])
  tags = var.tags
}

resource "aws_ecs_service" "processor" {
  name            = local.name
  cluster         = aws_ecs_cluster.traffic.id
  task_definition = aws_ecs_task_definition.processor.arn
  desired_count   = var.min_tasks
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  # Autoscaling owns the count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }
  tags = var.tags
  # Tasks start only once their roles can pull the image, write logs and drain the queue;
  # on destroy the roles outlive the tasks' drain.
  depends_on = [aws_iam_role_policy_attachment.task_processor, aws_iam_role_policy_attachment.execution]
}

resource "aws_appautoscaling_target" "processor" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.traffic.name}/${aws_ecs_service.processor.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

resource "aws_appautoscaling_policy" "backlog_per_task" {
  name               = "${local.name}-backlog-per-task"
  service_namespace  = aws_appautoscaling_target.processor.service_namespace
  resource_id        = aws_appautoscaling_target.processor.resource_id
  scalable_dimension = aws_appautoscaling_target.processor.scalable_dimension
  policy_type        = "TargetTrackingScaling"

  target_tracking_scaling_policy_configuration {
    target_value       = var.backlog_per_task_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      metrics {
        id          = "visible"
        return_data = false
        metric_stat {
          stat = "Sum"
          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"
            dimensions {
              name  = "QueueName"
              value = var.queue_name
            }
          }
        }
      }
      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.traffic.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.processor.name
            }
          }
        }
      }
      metrics {
        id          = "backlog_per_task"
        label       = "Visible messages per running task"
        expression  = "visible / IF(tasks > 0, tasks, 1)"
        return_data = true
      }
    }
  }
}

output "service_name" {
  value = aws_ecs_service.processor.name
}

output "cluster_name" {
  value = aws_ecs_cluster.traffic.name
}

# Where the tasks' JSON logs go: the monitoring module's metric filters read it.
output "log_group_name" {
  value = aws_cloudwatch_log_group.processor.name
}

output "min_tasks" {
  value = var.min_tasks
}
