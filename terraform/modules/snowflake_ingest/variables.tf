variable "integration_name" {
  description = "Name of the Snowflake storage integration (account-level object; needs ACCOUNTADMIN or CREATE INTEGRATION)."
  type        = string
  default     = "WALSTREAM_S3"
}

variable "database" {
  description = "Snowflake database holding the stage, file format and the per-table objects."
  type        = string
}

variable "schema" {
  description = "Snowflake schema holding the stage, file format and the per-table objects."
  type        = string
}

variable "stage_name" {
  description = "Name of the external stage on the walstream prefix (walstream's generated pipes copy from @<stage>/<schema>/<table>/)."
  type        = string
  default     = "WALSTREAM_STAGE"
}

variable "file_format_name" {
  description = "Name of the PARQUET file format used by the stage and the pipes."
  type        = string
  default     = "WALSTREAM_PARQUET"
}

variable "dest_url" {
  description = "walstream destination, s3://<bucket>/<prefix> (module s3_data_lake, output dest_url)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9.-]+/.+[^/]$", var.dest_url))
    error_message = "dest_url must look like s3://bucket/prefix, without a trailing slash."
  }
}

variable "storage_aws_role_arn" {
  description = "ARN of the IAM role the integration assumes (module walstream_iam, output snowflake_role_arn: known before the role exists)."
  type        = string
}

variable "apply_tables_enabled" {
  description = "Run `walstream snowflake apply` from Terraform (terraform_data + local-exec) to create the per-table objects (STAGING, stream, pipe, task, FINAL). The machine running terraform apply needs walstream installed, Snowflake credentials in its environment and access to the source or DEST to read the table schemas (the files under dest_url, or the source when WALSTREAM_DSN is set)."
  type        = bool
  default     = true
}

variable "tables" {
  description = "Source tables (schema.table) whose Snowflake objects walstream creates; they must be in the publication. Changing the list re-runs `walstream snowflake apply`, which is idempotent and never recreates a pipe."
  type        = list(string)
  default     = []
}

variable "walstream_command" {
  description = "Command that runs walstream on the Terraform runner (e.g. \"walstream\", \"/opt/walstream/bin/walstream\", or \"docker run --rm <image>\")."
  type        = string
  default     = "walstream"
}

variable "walstream_apply_args" {
  description = "Extra arguments for `walstream snowflake apply`, e.g. [\"--task-warehouse\", \"MERGE_WH\", \"--schedule\", \"1 MINUTE\"]. Credentials do not go here: export them (WALSTREAM_SNOWFLAKE_ACCOUNT, WALSTREAM_SNOWFLAKE_USER, WALSTREAM_SNOWFLAKE_PRIVATE_KEY_FILE) in the environment of terraform apply."
  type        = list(string)
  default     = []
}

variable "walstream_version" {
  description = "walstream version whose generated SQL is applied; changing it re-runs the apply (new MERGE logic is installed with CREATE OR ALTER, pipes are kept)."
  type        = string
  default     = "0.1.0"
}
