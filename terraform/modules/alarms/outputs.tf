output "alarm_arns" {
  description = "ARNs of the alarms this module created, by short name."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.wal_retained : "wal-retained" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lag : "lag" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.freshness : "freshness" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.errors : "errors" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.warehouse_monitor_down : "warehouse-monitor-down" => a.arn },
    { for t, a in aws_cloudwatch_metric_alarm.load_failed : "load-failed-${t}" => a.arn },
    { for t, a in aws_cloudwatch_metric_alarm.task_failed : "task-failed-${t}" => a.arn },
    { for t, a in aws_cloudwatch_metric_alarm.final_freshness : "final-freshness-${t}" => a.arn },
    { for t, a in aws_cloudwatch_metric_alarm.files_not_loaded : "files-not-loaded-${t}" => a.arn },
    {
      "not-running"   = aws_cloudwatch_metric_alarm.not_running.arn
      "task-restarts" = aws_cloudwatch_metric_alarm.task_restarts.arn
    },
  )
}
