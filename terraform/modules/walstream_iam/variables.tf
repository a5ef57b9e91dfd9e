variable "name" {
  description = "Name prefix of the IAM roles, e.g. \"walstream-prod-sf-sync\"."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the data-lake bucket (module s3_data_lake, output bucket_arn)."
  type        = string
}

variable "prefix" {
  description = "Key prefix walstream writes under, without slashes (module s3_data_lake, output prefix)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the data lake's KMS key (module s3_data_lake, output kms_key_arn)."
  type        = string
}

variable "db_secret_arn" {
  description = "ARN of the one Secrets Manager secret holding the replication user's password (RDS secret JSON shape: username, password, ...). null when walstream authenticates with RDS IAM tokens only."
  type        = string
  default     = null
}

variable "db_secret_kms_key_arn" {
  description = "ARN of the customer-managed KMS key encrypting db_secret_arn; null when the secret uses the AWS managed key aws/secretsmanager."
  type        = string
  default     = null
}

variable "db_cluster_resource_id" {
  description = "Resource id of the Aurora cluster (cluster-XXXXXXXX, attribute cluster_resource_id of aws_rds_cluster) for rds-db:connect; null disables IAM database authentication grants."
  type        = string
  default     = null
}

variable "db_user" {
  description = "PostgreSQL role walstream connects as (needs rds_replication, and rds_iam for IAM authentication)."
  type        = string
  default     = "walstream"
}

variable "log_group_arn" {
  description = "ARN of the CloudWatch log group the ECS task writes to (module ecs_service creates it; pass its name-derived ARN)."
  type        = string
}

variable "metrics_log_group_arn" {
  description = "ARN of the log group the CloudWatch agent sidecar writes embedded-metric-format records to (module ecs_service, output metrics_log_group_arn); null without the sidecar."
  type        = string
  default     = null
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository holding the walstream image; null when the image comes from another registry."
  type        = string
  default     = null
}

variable "snowflake_iam_user_arn" {
  description = "STORAGE_AWS_IAM_USER_ARN of the Snowflake storage integration (module snowflake_ingest, output storage_aws_iam_user_arn); null skips the Snowflake role."
  type        = string
  default     = null
}

variable "snowflake_external_id" {
  description = "STORAGE_AWS_EXTERNAL_ID of the Snowflake storage integration (module snowflake_ingest, output storage_aws_external_id)."
  type        = string
  default     = null
}

variable "snowflake_role_name" {
  description = "Name of the IAM role the Snowflake storage integration assumes. It is fixed up front because the integration needs the role's ARN before the role exists (see snowflake_role_arn output)."
  type        = string
  default     = null
}

variable "permissions_boundary_arn" {
  description = "Optional permissions boundary attached to every role of this module."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
