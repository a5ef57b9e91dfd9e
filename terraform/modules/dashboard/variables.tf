variable "name" {
  description = "Name of the CloudWatch dashboard, e.g. \"walstream-prod-sf-sync\" (letters, digits, - and _)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "A CloudWatch dashboard name has 1 to 255 letters, digits, - or _."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the walstream metrics (module ecs_service, variable metrics_namespace)."
  type        = string
  default     = "Walstream"

  validation {
    # Quoted in the SEARCH expressions and written into JSON as is: no quotes, no backslashes.
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace))
    error_message = "A CloudWatch namespace has letters, digits and . _ / # : - only."
  }
}

variable "slot" {
  description = "Replication slot: the Slot dimension of the walstream metrics."
  type        = string
  default     = "sf_sync"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,63}$", var.slot))
    error_message = "A PostgreSQL replication slot name has 1 to 63 lower-case letters, digits or _."
  }
}

variable "walstream_lag_bytes_threshold" {
  description = "Drawn as a line on the slot-lag graph: the threshold of the alarms module's lag alarm (bytes)."
  type        = number
  default     = 5368709120
}

variable "unloaded_seconds_threshold" {
  description = "Drawn as a line on the graph of the oldest file not loaded: the threshold of the alarms module's files-not-loaded alarm (seconds)."
  type        = number
  default     = 1800
}

variable "final_freshness_seconds_threshold" {
  description = "Drawn as a line on the FINAL freshness graph: the threshold of the alarms module's final-freshness alarm (seconds)."
  type        = number
  default     = 3600
}
