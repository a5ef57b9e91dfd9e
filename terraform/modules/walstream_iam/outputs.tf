output "task_role_arn" {
  description = "ARN of the walstream task role (ECS taskRoleArn)."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the ECS execution role (ECS executionRoleArn)."
  value       = aws_iam_role.execution.arn
}

output "snowflake_role_arn" {
  description = "ARN of the Snowflake storage integration role. Known before the role exists, so the integration can be created first (it needs this ARN) and the role second (it needs the integration's IAM user and external id)."
  value       = local.snowflake_role_arn
}

output "rds_db_user_arn" {
  description = "rds-db:connect resource walstream may use; null when IAM database authentication is not configured."
  value       = local.rds_db_user_arn
}
