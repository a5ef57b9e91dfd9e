variable "name" {
  description = "Name of the cluster parameter group."
  type        = string
}

variable "family" {
  description = "Parameter group family of the cluster's engine version, e.g. \"aurora-postgresql16\"."
  type        = string

  validation {
    condition     = can(regex("^aurora-postgresql[0-9]+$", var.family))
    error_message = "family must be an Aurora PostgreSQL family such as aurora-postgresql16."
  }
}

variable "max_replication_slots" {
  description = "max_replication_slots: one per walstream slot, plus the slots other consumers use, plus one spare for a re-snapshot."
  type        = number
  default     = 10
}

variable "max_wal_senders" {
  description = "max_wal_senders: at least max_replication_slots."
  type        = number
  default     = 10
}

variable "max_logical_replication_workers" {
  description = "max_logical_replication_workers (subscriber side; walstream does not use them, the engine needs a value >= 1)."
  type        = number
  default     = 4
}

variable "wal_sender_timeout_ms" {
  description = "wal_sender_timeout in milliseconds: the server drops a replication connection silent for this long. walstream sends status updates every --status-interval seconds (default 10), so keep this well above that."
  type        = number
  default     = 60000
}

variable "log_min_duration_statement_ms" {
  description = "log_min_duration_statement in milliseconds (statement logging for slow queries, -1 disables)."
  type        = number
  default     = 5000
}

variable "extra_parameters" {
  description = "Other cluster parameters to set: name => { value, apply_method }."
  type = map(object({
    value        = string
    apply_method = optional(string, "pending-reboot")
  }))
  default = {}
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
