output "dest_url" {
  description = "walstream --dest of this deployment."
  value       = module.data_lake.dest_url
}

output "aurora_parameter_group" {
  description = "Set this as the cluster's db_cluster_parameter_group_name, then reboot the writer."
  value       = module.aurora.name
}

output "aurora_grants_sql" {
  description = "SQL that creates the walstream database role."
  value       = module.aurora.grants_sql
}

output "ecs_cluster_name" {
  description = "ECS cluster of the walstream service."
  value       = module.ecs.cluster_name
}

output "ecs_service_name" {
  description = "ECS service running walstream."
  value       = module.ecs.service_name
}

output "log_group_name" {
  description = "CloudWatch log group of walstream."
  value       = module.ecs.log_group_name
}

output "snowflake_stage" {
  description = "External stage on the walstream prefix."
  value       = module.snowflake.stage
}

output "walstream_snowflake_apply_command" {
  description = "The per-table apply Terraform runs; run it with --dry-run to review."
  value       = module.snowflake.walstream_apply_command
}

output "alarm_arns" {
  description = "CloudWatch alarms."
  value       = module.alarms.alarm_arns
}

output "dashboard_name" {
  description = "CloudWatch dashboard of this deployment: the slot, the files written, loaded and merged, per table."
  value       = module.dashboard.dashboard_name
}

output "snapshot_run_commands" {
  description = "How to run a full load over ECS tasks: the coordinator task once, then N worker tasks (docs/operations.md, A full load of large tables)."
  value       = module.ecs.snapshot_run_commands
}
