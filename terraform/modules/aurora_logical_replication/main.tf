# Aurora PostgreSQL cluster parameter group with logical replication turned on.
#
# rds.logical_replication = 1 sets wal_level = logical. It is a static parameter: it applies only
# after the writer instance REBOOTS (apply_method = pending-reboot); until then walstream exits
# with code 3 ("wal_level is replica"). Plan the reboot (a failover or a short outage of writes)
# before the first deployment: docs/operations.md, First deployment.
#
# IAM authentication for the replication connection is a cluster setting, not a parameter: set
# iam_database_authentication_enabled = true on the aws_rds_cluster and GRANT rds_iam and
# rds_replication to the walstream role (output grants_sql). rds.force_ssl = 1 makes every
# connection, replication included, use TLS.

locals {
  parameters = merge(
    {
      "rds.logical_replication" = {
        value        = "1"
        apply_method = "pending-reboot"
      }
      "rds.force_ssl" = {
        value        = "1"
        apply_method = "pending-reboot"
      }
      max_replication_slots = {
        value        = tostring(var.max_replication_slots)
        apply_method = "pending-reboot"
      }
      max_wal_senders = {
        value        = tostring(var.max_wal_senders)
        apply_method = "pending-reboot"
      }
      max_logical_replication_workers = {
        value        = tostring(var.max_logical_replication_workers)
        apply_method = "pending-reboot"
      }
      wal_sender_timeout = {
        value        = tostring(var.wal_sender_timeout_ms)
        apply_method = "immediate"
      }
      log_min_duration_statement = {
        value        = tostring(var.log_min_duration_statement_ms)
        apply_method = "immediate"
      }
      log_statement = {
        value        = "ddl"
        apply_method = "immediate"
      }
    },
    var.extra_parameters,
  )
}

resource "aws_rds_cluster_parameter_group" "logical_replication" {
  name        = var.name
  family      = var.family
  description = "Aurora PostgreSQL with logical replication for walstream (static: needs a reboot)"
  tags        = var.tags

  dynamic "parameter" {
    for_each = local.parameters

    content {
      name         = parameter.key
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}
