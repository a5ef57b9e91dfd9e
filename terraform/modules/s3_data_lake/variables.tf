variable "bucket_name" {
  description = "Name of the data-lake bucket walstream writes Parquet files to (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "prefix" {
  description = "Key prefix of the walstream destination, without slashes: walstream runs with --dest s3://<bucket>/<prefix>. Keep \"dms\" to match the AWS DMS layout existing Snowpipes read."
  type        = string
  default     = "dms"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.prefix))
    error_message = "prefix must be a relative key prefix without leading or trailing slash, e.g. \"dms\"."
  }
}

variable "expire_after_days" {
  description = "Days after which objects under the prefix expire. Must be longer than the time Snowpipe may need to load a file, including an outage of the Snowflake side (files are needed until COPY_HISTORY shows them loaded)."
  type        = number
  default     = 30

  validation {
    condition     = var.expire_after_days >= 2
    error_message = "expire_after_days must be at least 2: Snowpipe must be able to load every file before it expires."
  }
}

variable "noncurrent_version_expire_days" {
  description = "Days after which noncurrent object versions (overwritten checkpoints, deleted files) are removed."
  type        = number
  default     = 7
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which incomplete multipart uploads (a walstream crash mid-upload) are aborted and their parts deleted."
  type        = number
  default     = 2
}

variable "snowpipe_sqs_arn" {
  description = "ARN of the Snowpipe SQS queue of your Snowflake account (the notification_channel column of SHOW PIPES). null creates no notification; set it once the first pipe exists (see docs/operations.md, First deployment)."
  type        = string
  default     = null

  validation {
    condition     = var.snowpipe_sqs_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:.+$", var.snowpipe_sqs_arn))
    error_message = "snowpipe_sqs_arn must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>) or null."
  }
}

variable "access_log_bucket" {
  description = "Name of an existing bucket receiving S3 server access logs for this bucket; null disables access logging."
  type        = string
  default     = null
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the data-lake KMS key is deleted after it is scheduled for deletion."
  type        = number
  default     = 30
}

variable "kms_key_admin_arns" {
  description = "IAM principals allowed to administer (not use) the data-lake KMS key, in addition to the account root."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket. Keep false in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
