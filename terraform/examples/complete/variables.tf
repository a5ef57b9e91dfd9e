variable "region" {
  description = "AWS region of the Aurora cluster, the bucket and the ECS service."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource, e.g. \"walstream-prod-sf-sync\" (one deployment per replication slot)."
  type        = string
}

variable "bucket_name" {
  description = "Name of the data-lake bucket to create."
  type        = string
}

variable "prefix" {
  description = "Key prefix walstream writes under (DMS layout: \"dms\")."
  type        = string
  default     = "dms"
}

variable "expire_after_days" {
  description = "Days after which walstream files expire from the bucket."
  type        = number
  default     = 30
}

variable "snowpipe_sqs_arn" {
  description = "Snowpipe SQS queue ARN (SHOW PIPES, column notification_channel). Leave null on the first apply; set it and apply again once the pipes exist."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the Aurora cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the walstream task."
  type        = list(string)
}

variable "aurora_cluster_identifier" {
  description = "Identifier of the existing Aurora PostgreSQL cluster."
  type        = string
}

variable "aurora_cluster_resource_id" {
  description = "Resource id (cluster-XXXX) of the Aurora cluster, for rds-db:connect (IAM authentication); null to use the password secret only."
  type        = string
  default     = null
}

variable "aurora_security_group_id" {
  description = "Security group of the Aurora cluster."
  type        = string
}

variable "aurora_parameter_group_family" {
  description = "Cluster parameter group family of the Aurora engine version."
  type        = string
  default     = "aurora-postgresql16"
}

variable "db_secret_arn" {
  description = "Secrets Manager secret of the walstream database role (RDS JSON shape with a \"password\" key)."
  type        = string
  default     = null
}

variable "db_user" {
  description = "PostgreSQL role walstream connects as."
  type        = string
  default     = "walstream"
}

variable "walstream_dsn" {
  description = "libpq connection string without the password, e.g. \"host=<writer endpoint> port=5432 dbname=app user=walstream sslmode=verify-full sslrootcert=/etc/ssl/certs/rds-global-bundle.pem\". Use the cluster (writer) endpoint so a failover is followed."
  type        = string
}

variable "slot" {
  description = "Replication slot walstream consumes."
  type        = string
  default     = "sf_sync"
}

variable "publication" {
  description = "Publication walstream streams."
  type        = string
  default     = "walstream"
}

variable "image" {
  description = "walstream image built from deploy/Dockerfile, pinned by digest."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ECR repository of the image; null for another registry."
  type        = string
  default     = null
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}

variable "snowflake_admin_role" {
  description = "Snowflake role that creates the integration, stage and file format (CREATE INTEGRATION needs ACCOUNTADMIN unless granted)."
  type        = string
  default     = "ACCOUNTADMIN"
}

variable "snowflake_database" {
  description = "Snowflake database for the walstream objects."
  type        = string
}

variable "snowflake_schema" {
  description = "Snowflake schema for the walstream objects."
  type        = string
}

variable "tables" {
  description = "Source tables (schema.table) replicated to Snowflake."
  type        = list(string)
}

variable "warehouse_monitor_enabled" {
  description = "Set once walstream runs its warehouse monitor (walstream run --snowflake-monitor-interval): creates the alarms on what it reads, per table of var.tables (files failed to load, failed MERGE task runs, FINAL freshness, files not loaded), and the monitor-down alarm."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every AWS resource."
  type        = map(string)
  default     = { app = "walstream" }
}
