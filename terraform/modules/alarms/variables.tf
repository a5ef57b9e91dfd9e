variable "name" {
  description = "Prefix of the alarm names, e.g. \"walstream-prod-sf-sync\"."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires and when it recovers (SNS topics, usually to the on-call pager)."
  type        = list(string)
  default     = []
}

variable "db_cluster_identifier" {
  description = "Aurora cluster identifier, for the WAL-retention alarm on the writer (AWS/RDS OldestReplicationSlotLag); null disables it."
  type        = string
  default     = null
}

variable "slot_lag_bytes_threshold" {
  description = "Alarm when the oldest replication slot on the writer retains more WAL than this (bytes). Size it well below the free storage headroom you accept losing to WAL."
  type        = number
  default     = 10737418240
}

variable "walstream_lag_bytes_threshold" {
  description = "Alarm when walstream's own lag (server WAL end - acknowledged LSN, metric walstream_lag_bytes) stays above this (bytes)."
  type        = number
  default     = 5368709120
}

variable "freshness_seconds_threshold" {
  description = "Alarm when the last stored commit is older than this (seconds). With an idle source this grows too: enable walstream's heartbeat (--heartbeat-interval) so commits keep arriving."
  type        = number
  default     = 1800
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the walstream metrics (module ecs_service, variable metrics_namespace)."
  type        = string
  default     = "Walstream"
}

variable "slot" {
  description = "Replication slot: the Slot dimension of the walstream metrics."
  type        = string
  default     = "sf_sync"
}

variable "walstream_metrics_enabled" {
  description = "Create the alarms on metrics published by the CloudWatch agent sidecar (lag, freshness, errors)."
  type        = bool
  default     = true
}

variable "warehouse_metrics_enabled" {
  description = "Create the alarms on the warehouse monitor's metrics (files failed to load, failed MERGE task runs, FINAL freshness, files not loaded, monitor down). Turn it on once walstream runs with --snowflake-monitor-interval: without the monitor the monitor-down alarm fires."
  type        = bool
  default     = false
}

variable "tables" {
  description = "Tables (schema.table, as in the metrics' table label) that get the per-table warehouse alarms: one alarm per table and kind, since a CloudWatch alarm watches one time series and cannot use a SEARCH expression. Keep it equal to the tables walstream replicates."
  type        = list(string)
  default     = []
}

variable "failed_files_threshold" {
  description = "Alarm when more files than this failed to load into a table's STAGING and were not loaded since (walstream_warehouse_failed_files). 0: the first failed file."
  type        = number
  default     = 0
}

variable "failed_task_runs_threshold" {
  description = "Alarm when more than this many of the recent runs of a table's MERGE task failed (walstream_warehouse_failed_task_runs, read from TASK_HISTORY). 0: the first failed run."
  type        = number
  default     = 0
}

variable "final_freshness_seconds_threshold" {
  description = "Alarm when a table's FINAL shows the source as it was more than this long ago (seconds) for 15 minutes: now - commit time at the merged watermark (walstream_warehouse_freshness_seconds). With an idle source this grows too: enable walstream's heartbeat (--heartbeat-interval)."
  type        = number
  default     = 3600
}

variable "unloaded_seconds_threshold" {
  description = "Alarm when the oldest file written for a table but not loaded into STAGING is older than this (seconds) for 10 minutes (walstream_warehouse_unloaded_seconds). Leave room for Snowpipe's latency and the task schedule."
  type        = number
  default     = 1800
}

variable "warehouse_monitor_down_periods" {
  description = "Alarm when the warehouse monitor has not read the warehouse successfully (walstream_warehouse_monitor_up 0, or no data) for this many consecutive 5-minute periods."
  type        = number
  default     = 3
}

variable "ecs_cluster_name" {
  description = "ECS cluster of the service (module ecs_service, output cluster_name)."
  type        = string
}

variable "ecs_service_name" {
  description = "ECS service (module ecs_service, output service_name)."
  type        = string
}

variable "task_stopped_rule_name" {
  description = "EventBridge rule matching stopped tasks (module ecs_service, output task_stopped_rule_name)."
  type        = string
}

variable "task_restarts_threshold" {
  description = "Alarm when this many tasks of the service stopped within task_restarts_period_seconds (a crash loop)."
  type        = number
  default     = 3
}

variable "task_restarts_period_seconds" {
  description = "Window of the task-restart alarm."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
