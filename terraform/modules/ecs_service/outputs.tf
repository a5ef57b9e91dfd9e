output "cluster_arn" {
  description = "ARN of the ECS cluster running the service."
  value       = local.cluster_arn
}

output "cluster_name" {
  description = "Name of the ECS cluster running the service."
  value       = local.cluster_name
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.walstream.name
}

output "task_definition_arn" {
  description = "ARN of the current task definition revision."
  value       = aws_ecs_task_definition.walstream.arn
}

output "security_group_id" {
  description = "Security group of the walstream task."
  value       = aws_security_group.walstream.id
}

output "log_group_name" {
  description = "CloudWatch log group of walstream (JSON lines, one event per line)."
  value       = aws_cloudwatch_log_group.walstream.name
}

output "log_group_arn" {
  description = "ARN of the walstream log group."
  value       = aws_cloudwatch_log_group.walstream.arn
}

output "metrics_log_group_arn" {
  description = "ARN of the CloudWatch agent's metrics (EMF) log group; null without the sidecar."
  value       = var.cloudwatch_agent_enabled ? aws_cloudwatch_log_group.metrics[0].arn : null
}

output "task_stopped_rule_name" {
  description = "EventBridge rule matching stopped tasks of the service (for the restart alarm)."
  value       = aws_cloudwatch_event_rule.task_stopped.name
}

output "container_definitions" {
  description = "The container definitions JSON (compare with deploy/ecs-task-definition.json)."
  value       = aws_ecs_task_definition.walstream.container_definitions
}

output "snapshot_run_commands" {
  description = "aws ecs run-task commands of a full load over tasks: the coordinator once, then the workers (--count N); null when snapshot_tasks_enabled is false. Add a command override (e.g. --table) for a reload."
  value = var.snapshot_tasks_enabled ? {
    coordinator = "aws ecs run-task --cluster ${local.cluster_name} --launch-type FARGATE --task-definition ${aws_ecs_task_definition.snapshot["coordinator"].family} --network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.private_subnet_ids)}],securityGroups=[${aws_security_group.walstream.id}],assignPublicIp=DISABLED}'"
    workers     = "aws ecs run-task --count 4 --cluster ${local.cluster_name} --launch-type FARGATE --task-definition ${aws_ecs_task_definition.snapshot["worker"].family} --network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.private_subnet_ids)}],securityGroups=[${aws_security_group.walstream.id}],assignPublicIp=DISABLED}'"
  } : null
}
