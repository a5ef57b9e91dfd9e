output "alarm_arns" {
  description = "ARNs of the alarms this module created, by short name."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.wal_retained : "wal-retained" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lag : "lag" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.freshness : "freshness" => a.arn },
    { for a in aws_cloudwatch_metric_alarm.errors : "errors" => a.arn },
    {
      "not-running"   = aws_cloudwatch_metric_alarm.not_running.arn
      "task-restarts" = aws_cloudwatch_metric_alarm.task_restarts.arn
    },
  )
}
