# walstream on ECS Fargate: one service per replication slot with exactly one task.
#
# desired_count = 1 with deployment_minimum_healthy_percent = 0 and maximum_percent = 100 means
# a deployment stops the old task before it starts the new one: two consumers never fight over
# the slot (the second would fail with "slot is active" and crash-loop). The old task gets
# SIGTERM and var.stop_timeout_seconds to flush, store and acknowledge before SIGKILL.

data "aws_region" "current" {}

locals {
  cluster_arn     = var.cluster_arn == null ? aws_ecs_cluster.this[0].arn : var.cluster_arn
  cluster_name    = element(split("/", local.cluster_arn), length(split("/", local.cluster_arn)) - 1)
  log_group       = "/ecs/${var.name}"
  agent_log_group = "/ecs/${var.name}/metrics"

  walstream_environment = merge(
    {
      WALSTREAM_LOG_FORMAT   = "json"
      WALSTREAM_METRICS_PORT = tostring(var.metrics_port)
      WALSTREAM_SLOT         = var.slot
      WALSTREAM_SPILL_DIR    = "/tmp"
      WALSTREAM_SPILL_BUDGET = "${var.ephemeral_storage_gib - 10}GB"
    },
    var.walstream_environment,
  )

  walstream_container = {
    name                   = "walstream"
    image                  = var.image
    essential              = true
    command                = ["run"]
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    stopTimeout            = var.stop_timeout_seconds
    environment            = [for k in sort(keys(local.walstream_environment)) : { name = k, value = local.walstream_environment[k] }]
    secrets                = [for k in sort(keys(var.walstream_secrets)) : { name = k, valueFrom = var.walstream_secrets[k] }]
    portMappings           = [{ containerPort = var.metrics_port, protocol = "tcp", name = "metrics" }]
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters        = { initProcessEnabled = true, capabilities = { drop = ["ALL"] } }
    ulimits                = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]

    healthCheck = var.health_check_enabled ? {
      command     = ["CMD", "/usr/local/bin/walstream-entrypoint", "healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 120
    } : null

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "walstream"
        mode                  = "non-blocking"
        max-buffer-size       = "16m"
      }
    }
  }

  # The CloudWatch agent scrapes walstream over localhost (awsvpc: one network namespace per
  # task) and turns the selected series into CloudWatch metrics through embedded metric format.
  agent_prometheus_config = yamlencode({
    global = { scrape_interval = "30s", scrape_timeout = "10s" }
    scrape_configs = [{
      job_name       = "walstream"
      static_configs = [{ targets = ["127.0.0.1:${var.metrics_port}"], labels = { Slot = var.slot } }]
    }]
  })

  agent_config = jsonencode({
    agent = { region = data.aws_region.current.name }
    logs = {
      force_flush_interval = 5
      metrics_collected = {
        prometheus = {
          log_group_name         = local.agent_log_group
          prometheus_config_path = "env:PROMETHEUS_CONFIG_CONTENT"
          emf_processor = {
            metric_declaration_dedup = true
            metric_namespace         = var.metrics_namespace
            metric_declaration = [
              {
                source_labels = ["job"]
                label_matcher = "^walstream$"
                dimensions    = [["Slot"]]
                metric_selectors = [
                  "^walstream_lag_bytes$",
                  "^walstream_last_commit_timestamp_seconds$",
                  "^walstream_errors_total$",
                  "^walstream_warehouse_monitor_up$",
                  "^walstream_warehouse_monitor_last_success_timestamp_seconds$",
                ]
              },
              # One CloudWatch metric per table (label "table"): the rows walstream stored, and
              # what the warehouse monitor (walstream run --snowflake-monitor-interval) reads.
              # Other labels (op, waiting_for) are not dimensions: CloudWatch aggregates their
              # series per table (Sum adds the rows of inserts, updates and deletes).
              {
                source_labels = ["job"]
                label_matcher = "^walstream$"
                dimensions    = [["Slot", "table"]]
                metric_selectors = [
                  "^walstream_changes_total$",
                  "^walstream_warehouse_watermark_lsn$",
                  "^walstream_warehouse_watermark_lag_bytes$",
                  "^walstream_warehouse_waiting_seconds$",
                  "^walstream_warehouse_freshness_seconds$",
                  "^walstream_warehouse_unloaded_files$",
                  "^walstream_warehouse_unloaded_seconds$",
                  "^walstream_warehouse_rows_written$",
                  "^walstream_warehouse_rows_loaded$",
                  "^walstream_warehouse_failed_files$",
                  "^walstream_warehouse_failed_task_runs$",
                ]
              },
            ]
          }
        }
      }
    }
  })

  agent_container = {
    name                   = "cloudwatch-agent"
    image                  = var.cloudwatch_agent_image
    essential              = false
    readonlyRootFilesystem = false
    environment = [
      { name = "CW_CONFIG_CONTENT", value = local.agent_config },
      { name = "PROMETHEUS_CONFIG_CONTENT", value = local.agent_prometheus_config },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "cloudwatch-agent"
      }
    }
  }

  # Encoded one by one and joined: the two containers are objects of different types, which
  # a conditional between tuples of different lengths would refuse.
  container_json = concat(
    [jsonencode(local.walstream_container)],
    var.cloudwatch_agent_enabled ? [jsonencode(local.agent_container)] : [],
  )
  container_definitions = "[${join(",", local.container_json)}]"
}

resource "aws_ecs_cluster" "this" {
  count = var.cluster_arn == null ? 1 : 0

  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "walstream" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "metrics" {
  # checkov:skip=CKV_AWS_338:This group only carries the CloudWatch agent's embedded-metric-format records; the metrics themselves are kept by CloudWatch for 15 months.
  count = var.cloudwatch_agent_enabled ? 1 : 0

  name              = local.agent_log_group
  retention_in_days = 30
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------------
# Network: no ingress unless a Prometheus server is named; egress only to PostgreSQL on Aurora
# and HTTPS (AWS APIs). DNS to the VPC resolver is not subject to security groups.
# ---------------------------------------------------------------------------------------------

resource "aws_security_group" "walstream" {
  name        = var.name
  description = "walstream ${var.name}: egress to Aurora and HTTPS only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })
}

resource "aws_vpc_security_group_egress_rule" "to_aurora" {
  security_group_id            = aws_security_group.walstream.id
  description                  = "PostgreSQL replication connection to Aurora"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = var.aurora_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = toset(var.https_egress_cidr_blocks)

  security_group_id = aws_security_group.walstream.id
  description       = "HTTPS to AWS APIs (S3, KMS, Secrets Manager, STS, CloudWatch, ECR)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "https_prefix_lists" {
  for_each = toset(var.https_egress_prefix_list_ids)

  security_group_id = aws_security_group.walstream.id
  description       = "HTTPS to AWS gateway endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = each.value
}

resource "aws_vpc_security_group_ingress_rule" "aurora_from_walstream" {
  security_group_id            = var.aurora_security_group_id
  description                  = "walstream ${var.name} replication connection"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.walstream.id
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  for_each = toset(var.metrics_ingress_security_group_ids)

  security_group_id            = aws_security_group.walstream.id
  description                  = "Prometheus scrape of walstream /metrics"
  ip_protocol                  = "tcp"
  from_port                    = var.metrics_port
  to_port                      = var.metrics_port
  referenced_security_group_id = each.value
}

# ---------------------------------------------------------------------------------------------
# Task definition and service
# ---------------------------------------------------------------------------------------------

resource "aws_ecs_task_definition" "walstream" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = var.task_role_arn
  execution_role_arn       = var.execution_role_arn
  container_definitions    = local.container_definitions
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = var.ephemeral_storage_gib
  }

  volume {
    name = "tmp"
  }
}

resource "aws_ecs_service" "walstream" {
  name                               = var.name
  cluster                            = local.cluster_arn
  task_definition                    = aws_ecs_task_definition.walstream.arn
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  desired_count                      = 1
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = false
  tags                               = var.tags

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.walstream.id]
    assign_public_ip = false
  }
}

# Every stopped task of this service (crash, failed health check, deployment) is one matched
# event; the alarms module alarms on their count (AWS/Events MatchedEvents by RuleName).
resource "aws_cloudwatch_event_rule" "task_stopped" {
  name        = "${var.name}-task-stopped"
  description = "walstream ${var.name}: a task of the service stopped"
  tags        = var.tags

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [local.cluster_arn]
      group      = ["service:${var.name}"]
      lastStatus = ["STOPPED"]
    }
  })
}

# The full load over several tasks (docs/operations.md, "A full load of large tables"): one
# coordinator task holds the exported snapshot and reads with a few threads; any number of
# worker tasks join its plan on DEST and claim chunks through advisory locks on the source.
# One-off tasks (aws ecs run-task), not services: a finished worker exits 0 and must stay
# stopped. Same image, roles, network and environment as the stream; no health check or port
# (a load is not a server), its memory budget from the task's size.
locals {
  snapshot_environment = [
    for k in sort(keys(local.snapshot_settings)) : { name = k, value = local.snapshot_settings[k] }
  ]
  snapshot_settings = merge(local.walstream_environment, {
    WALSTREAM_SNAPSHOT_WORKERS       = tostring(var.snapshot_threads_per_task)
    WALSTREAM_SNAPSHOT_MEMORY_BUDGET = "${floor(var.memory * 0.6)}MB"
    WALSTREAM_SNAPSHOT_CHUNK_SIZE    = var.snapshot_chunk_size
    WALSTREAM_SNAPSHOT_JSON          = "1"
  })
  snapshot_container = merge(local.walstream_container, {
    environment  = local.snapshot_environment
    healthCheck  = null
    portMappings = []
  })
}

resource "aws_ecs_task_definition" "snapshot" {
  for_each = var.snapshot_tasks_enabled ? {
    coordinator = ["snapshot", "--create-slot"]
    worker      = ["snapshot", "--join"]
  } : {}

  family                   = "${var.name}-snapshot-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = var.task_role_arn
  execution_role_arn       = var.execution_role_arn
  container_definitions    = jsonencode([merge(local.snapshot_container, { command = each.value })])
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = var.ephemeral_storage_gib
  }

  volume {
    name = "tmp"
  }
}
