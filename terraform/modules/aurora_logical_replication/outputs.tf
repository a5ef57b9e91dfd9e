output "name" {
  description = "Name of the cluster parameter group: set db_cluster_parameter_group_name on the aws_rds_cluster to it, then reboot the writer."
  value       = aws_rds_cluster_parameter_group.logical_replication.name
}

output "needs_reboot" {
  description = "Always true: rds.logical_replication is static and applies only after the writer instance reboots."
  value       = true
}

output "grants_sql" {
  description = "SQL to run once as the cluster's master user so the walstream role can replicate with IAM authentication."
  value       = <<-EOT
    CREATE ROLE walstream WITH LOGIN;
    GRANT rds_replication TO walstream;
    GRANT rds_iam TO walstream;
    -- plus SELECT on the published tables (initial snapshot, `walstream snapshot`), e.g.:
    -- GRANT SELECT ON ALL TABLES IN SCHEMA public TO walstream;
  EOT
}
