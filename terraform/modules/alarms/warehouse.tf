# Alarms on the Snowflake half: what walstream's warehouse monitor (walstream run
# --snowflake-monitor-interval) reads from the warehouse, forwarded by the CloudWatch agent with
# the dimensions Slot and table (module ecs_service). docs/operations.md says what to do:
#
#   load-failed       did Snowpipe fail to load a file?        walstream_warehouse_failed_files
#   task-failed       did a table's MERGE task run fail?        walstream_warehouse_failed_task_runs
#   final-freshness   how old is what FINAL shows?              walstream_warehouse_freshness_seconds
#   files-not-loaded  has a written file waited too long?       walstream_warehouse_unloaded_seconds
#   monitor-down      can the monitor read the warehouse?       walstream_warehouse_monitor_up
#
# A CloudWatch alarm watches one time series, and metric math SEARCH (one series per table) is
# refused in alarms; so the per-table alarms are one alarm per table of var.tables.

locals {
  warehouse_tables = toset(var.warehouse_metrics_enabled ? var.tables : [])
}

resource "aws_cloudwatch_metric_alarm" "load_failed" {
  for_each = local.warehouse_tables

  alarm_name          = "${var.name}-load-failed-${each.key}"
  alarm_description   = "walstream slot ${var.slot}, table ${each.key}: more than ${var.failed_files_threshold} files failed to load into STAGING and were not loaded since. Runbook: docs/operations.md#files-that-failed-to-load"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_warehouse_failed_files"
  dimensions          = { Slot = var.slot, table = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.failed_files_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "task_failed" {
  for_each = local.warehouse_tables

  alarm_name          = "${var.name}-task-failed-${each.key}"
  alarm_description   = "walstream slot ${var.slot}, table ${each.key}: more than ${var.failed_task_runs_threshold} of the recent runs of the MERGE task failed. Runbook: docs/operations.md#a-merge-task-failed"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_warehouse_failed_task_runs"
  dimensions          = { Slot = var.slot, table = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.failed_task_runs_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "final_freshness" {
  for_each = local.warehouse_tables

  alarm_name          = "${var.name}-final-freshness-${each.key}"
  alarm_description   = "walstream slot ${var.slot}, table ${each.key}: FINAL shows the source as it was more than ${var.final_freshness_seconds_threshold} s ago. Runbook: docs/operations.md#final-freshness-alarm"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_warehouse_freshness_seconds"
  dimensions          = { Slot = var.slot, table = each.key }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.final_freshness_seconds_threshold
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "files_not_loaded" {
  for_each = local.warehouse_tables

  alarm_name          = "${var.name}-files-not-loaded-${each.key}"
  alarm_description   = "walstream slot ${var.slot}, table ${each.key}: a file written more than ${var.unloaded_seconds_threshold} s ago has not reached STAGING. Runbook: docs/operations.md#files-written-but-not-loaded"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_warehouse_unloaded_seconds"
  dimensions          = { Slot = var.slot, table = each.key }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.unloaded_seconds_threshold
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# Missing data breaches: the monitor stopped, walstream stopped, or the agent stopped
# forwarding. Each of them leaves the other warehouse alarms without data, hence silent.
resource "aws_cloudwatch_metric_alarm" "warehouse_monitor_down" {
  count = var.warehouse_metrics_enabled ? 1 : 0

  alarm_name          = "${var.name}-warehouse-monitor-down"
  alarm_description   = "walstream slot ${var.slot}: the warehouse monitor has not read the warehouse for ${var.warehouse_monitor_down_periods * 5} minutes (walstream_warehouse_monitor_up 0 or missing). Runbook: docs/operations.md#the-warehouse-monitor-cannot-read-the-warehouse"
  namespace           = var.metrics_namespace
  metric_name         = "walstream_warehouse_monitor_up"
  dimensions          = { Slot = var.slot }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = var.warehouse_monitor_down_periods
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
