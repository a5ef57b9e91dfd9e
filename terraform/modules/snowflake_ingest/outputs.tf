output "storage_aws_iam_user_arn" {
  description = "Snowflake's IAM user for the integration: the trusted principal of the Snowflake role (module walstream_iam, variable snowflake_iam_user_arn)."
  value       = snowflake_storage_integration.walstream.storage_aws_iam_user_arn
}

output "storage_aws_external_id" {
  description = "External id the Snowflake role's trust policy requires (module walstream_iam, variable snowflake_external_id)."
  value       = snowflake_storage_integration.walstream.storage_aws_external_id
}

output "stage" {
  description = "Fully qualified name of the external stage."
  value       = local.stage_fqn
}

output "file_format" {
  description = "Fully qualified name of the PARQUET file format."
  value       = local.file_format_fqn
}

output "walstream_apply_command" {
  description = "The walstream command Terraform runs for the per-table objects; run it by hand (add --dry-run to review) when you apply outside Terraform."
  value       = "${var.walstream_command} ${join(" ", local.apply_argv)}"
}
