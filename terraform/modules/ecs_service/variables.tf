variable "name" {
  description = "Name of the service, task family and log group suffix, e.g. \"walstream-prod-sf-sync\". One service per replication slot."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of an existing ECS cluster; null creates a cluster named after var.name (with Container Insights on)."
  type        = string
  default     = null
}

variable "image" {
  description = "walstream container image built from deploy/Dockerfile, pinned by digest (repo@sha256:...) so a redeploy never changes code silently."
  type        = string
}

variable "cpu" {
  description = "Fargate task CPU units (1024 = 1 vCPU). walstream decodes on one core and encodes Parquet on the flush threads: 1024 is a good start."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Fargate task memory (MiB). Must exceed --flush-bytes x (--max-in-flight + 1) plus ~300 MiB."
  type        = number
  default     = 2048
}

variable "ephemeral_storage_gib" {
  description = "Fargate ephemeral storage (GiB, 21-200). walstream spills large in-progress transactions to /tmp; WALSTREAM_SPILL_BUDGET defaults to this size minus 10 GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.ephemeral_storage_gib >= 21 && var.ephemeral_storage_gib <= 200
    error_message = "ephemeral_storage_gib must be between 21 and 200 (Fargate limits)."
  }
}

variable "vpc_id" {
  description = "VPC of the Aurora cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the task (no public IP is assigned). They need a route to S3, Secrets Manager, KMS, ECR and CloudWatch: a NAT gateway or VPC endpoints."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "private_subnet_ids needs at least one subnet."
  }
}

variable "aurora_security_group_id" {
  description = "Security group of the Aurora cluster. The module allows egress from walstream to it on var.db_port and ingress on it from walstream."
  type        = string
}

variable "db_port" {
  description = "PostgreSQL port of the Aurora cluster."
  type        = number
  default     = 5432
}

variable "https_egress_cidr_blocks" {
  description = "Where walstream may open HTTPS connections (S3, KMS, Secrets Manager, STS, CloudWatch, ECR). Narrow it to your VPC endpoint subnets when you use interface endpoints only."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "https_egress_prefix_list_ids" {
  description = "Managed prefix lists (e.g. the S3 gateway endpoint's com.amazonaws.<region>.s3) also allowed for HTTPS egress."
  type        = list(string)
  default     = []
}

variable "metrics_port" {
  description = "Port of walstream's Prometheus /metrics, /healthz and /readyz endpoint (--metrics-port / WALSTREAM_METRICS_PORT)."
  type        = number
  default     = 9187
}

variable "metrics_ingress_security_group_ids" {
  description = "Security groups of Prometheus servers allowed to scrape var.metrics_port. Empty: no ingress at all (the CloudWatch agent sidecar scrapes over localhost)."
  type        = list(string)
  default     = []
}

variable "task_role_arn" {
  description = "Task role (module walstream_iam, output task_role_arn)."
  type        = string
}

variable "execution_role_arn" {
  description = "Execution role (module walstream_iam, output execution_role_arn)."
  type        = string
}

variable "walstream_environment" {
  description = "Non-secret WALSTREAM_* settings of `walstream run`, e.g. { WALSTREAM_DSN = \"host=... user=walstream sslmode=verify-full sslrootcert=/etc/ssl/certs/rds-global-bundle.pem\", WALSTREAM_SLOT = \"sf_sync\", WALSTREAM_DEST = \"s3://bucket/dms\" }. See deploy/walstream.env.example for every key. Never put a password here: use var.walstream_secrets."
  type        = map(string)

  validation {
    condition     = alltrue([for k in keys(var.walstream_environment) : can(regex("^(WALSTREAM_|AWS_|PG[A-Z]+$)", k))])
    error_message = "walstream_environment keys must be WALSTREAM_*, AWS_* or libpq PG* variables."
  }

  validation {
    condition     = !contains(keys(var.walstream_environment), "PGPASSWORD")
    error_message = "PGPASSWORD is a secret: pass it through walstream_secrets (Secrets Manager), not walstream_environment."
  }
}

variable "walstream_secrets" {
  description = "Environment variables injected from Secrets Manager at task start: name => valueFrom, e.g. { PGPASSWORD = \"<secret-arn>:password::\" } for an RDS secret. A rotated secret is read again only when a task starts (see docs/operations.md, Rotating credentials)."
  type        = map(string)
  default     = {}
}

variable "slot" {
  description = "Replication slot this service consumes; used as the Slot dimension of the CloudWatch metrics."
  type        = string
  default     = "sf_sync"
}

variable "health_check_enabled" {
  description = "Container health check on http://127.0.0.1:<metrics_port>/healthz. Needs a walstream with --metrics-port (/healthz); turn it off for older images or ECS will replace healthy-but-silent tasks."
  type        = bool
  default     = true
}

variable "stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL. walstream flushes, waits for S3 and acknowledges in that time; a kill is safe (nothing unacknowledged is lost) but replays the last flush. Fargate allows at most 120."
  type        = number
  default     = 120

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (the Fargate maximum)."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log group."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the CloudWatch log groups (its key policy must allow the logs.<region>.amazonaws.com service). null uses CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "cloudwatch_agent_enabled" {
  description = "Run the CloudWatch agent as a sidecar that scrapes walstream's /metrics over localhost and publishes the lag and freshness metrics the alarms module uses (namespace var.metrics_namespace)."
  type        = bool
  default     = true
}

variable "cloudwatch_agent_image" {
  description = "CloudWatch agent image for the metrics sidecar; pin it by digest in production."
  type        = string
  default     = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest"
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the walstream metrics the sidecar publishes."
  type        = string
  default     = "Walstream"
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}

variable "snapshot_tasks_enabled" {
  description = "Create the task definitions of a full load spread over tasks: <name>-snapshot-coordinator (walstream snapshot --create-slot) and <name>-snapshot-worker (walstream snapshot --join), run with aws ecs run-task (see the snapshot_run_commands output)."
  type        = bool
  default     = true
}

variable "snapshot_threads_per_task" {
  description = "Worker threads reading chunks in each snapshot task (WALSTREAM_SNAPSHOT_WORKERS); the coordinator reads with as many."
  type        = number
  default     = 2
}

variable "snapshot_chunk_size" {
  description = "The most table bytes (heap and TOAST) per chunk of the full load (WALSTREAM_SNAPSHOT_CHUNK_SIZE): what a killed worker reads again."
  type        = string
  default     = "1GB"
}
