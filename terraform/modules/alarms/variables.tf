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
