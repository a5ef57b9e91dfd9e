# CloudWatch alarms for one walstream service. Each alarm answers one of the operator's
# questions (docs/operations.md says what to do when it fires):
#
#   wal-retained      is the source's WAL growing?  AWS/RDS OldestReplicationSlotLag on the writer;
#                     works even when walstream is down, which is when it matters most
#   lag               how far behind is walstream?  walstream_lag_bytes (sidecar)
#   freshness         when did the last change land? now - walstream_last_commit_timestamp_seconds
#   errors            is walstream failing?          walstream_errors_total (sidecar)
#   not-running       is it running?                 ECS/ContainerInsights RunningTaskCount
#   task-restarts     is it crash-looping?           AWS/Events MatchedEvents of the stopped-task rule
#
# warehouse.tf has the alarms on the Snowflake half (loads, MERGE tasks, FINAL freshness).

resource "aws_cloudwatch_metric_alarm" "wal_retained" {
  count = var.db_cluster_identifier == null ? 0 : 1

  alarm_name          = "${var.name}-wal-retained"
  alarm_description   = "Aurora ${var.db_cluster_identifier}: a replication slot retains more than ${var.slot_lag_bytes_threshold} bytes of WAL. Runbook: docs/operations.md#wal-growing-alarm"
  namespace           = "AWS/RDS"
  metric_name         = "OldestReplicationSlotLag"
  dimensions          = { DBClusterIdentifier = var.db_cluster_identifier, Role = "WRITER" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.slot_lag_bytes_threshold
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lag" {
  count = var.walstream_metrics_enabled ? 1 : 0

  alarm_name          = "${var.name}-lag"
  alarm_description   = "walstream slot ${var.slot}: more than ${var.walstream_lag_bytes_threshold} bytes of WAL not yet stored and acknowledged. Runbook: docs/operations.md#wal-growing-alarm"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_lag_bytes"
  dimensions          = { Slot = var.slot }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.walstream_lag_bytes_threshold
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# Freshness = time of the data point - commit time of the last stored transaction. EPOCH() is
# the data point's own timestamp, so no "now" is needed; missing data (walstream down or not
# scraped) breaches.
resource "aws_cloudwatch_metric_alarm" "freshness" {
  count = var.walstream_metrics_enabled ? 1 : 0

  alarm_name          = "${var.name}-freshness"
  alarm_description   = "walstream slot ${var.slot}: the newest stored change committed more than ${var.freshness_seconds_threshold} s ago. Runbook: docs/operations.md#freshness-alarm"
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.freshness_seconds_threshold
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "freshness"
    expression  = "EPOCH(last_commit) - last_commit"
    label       = "seconds since the last stored commit"
    return_data = true
  }

  metric_query {
    id = "last_commit"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "walstream_last_commit_timestamp_seconds"
      dimensions  = { Slot = var.slot }
      period      = 300
      stat        = "Maximum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  count = var.walstream_metrics_enabled ? 1 : 0

  alarm_name          = "${var.name}-errors"
  alarm_description   = "walstream slot ${var.slot}: errors or retries keep happening (walstream_errors_total). Runbook: docs/operations.md#errors-alarm"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_errors_total"
  dimensions          = { Slot = var.slot }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "not_running" {
  alarm_name          = "${var.name}-not-running"
  alarm_description   = "ECS service ${var.ecs_service_name} has no running task. Runbook: docs/operations.md#walstream-is-down"
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "task_restarts" {
  alarm_name          = "${var.name}-task-restarts"
  alarm_description   = "ECS service ${var.ecs_service_name}: ${var.task_restarts_threshold} or more tasks stopped within ${var.task_restarts_period_seconds} s (crash loop). Runbook: docs/operations.md#walstream-is-down"
  namespace           = "AWS/Events"
  metric_name         = "MatchedEvents"
  dimensions          = { RuleName = var.task_stopped_rule_name }
  statistic           = "Sum"
  period              = var.task_restarts_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.task_restarts_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
