# The data-lake bucket walstream writes to (s3://<bucket>/<prefix>/<schema>/<table>/*.parquet)
# and Snowflake reads from: a dedicated KMS key, no public access, TLS only, versioned, expiring
# files once Snowpipe had ample time to load them, and ObjectCreated events to Snowpipe's queue.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  bucket_arn   = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
}

# ---------------------------------------------------------------------------------------------
# KMS: one key for this bucket only, so access to the data is exactly access to this key.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" means "this key"; use of the key is granted by IAM policies scoped to the key ARN.
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" means "this key"; writes are limited to the account root and the listed key admins.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" means "this key", it cannot name the key's own ARN.
  statement {
    sid       = "AccountRootDelegatesToIam"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_admin_arns) > 0 ? [1] : []

    content {
      sid    = "KeyAdministration"
      effect = "Allow"
      actions = [
        "kms:CancelKeyDeletion",
        "kms:Create*",
        "kms:Describe*",
        "kms:Disable*",
        "kms:Enable*",
        "kms:Get*",
        "kms:List*",
        "kms:Put*",
        "kms:Revoke*",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:Update*",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.kms_key_admin_arns
      }
    }
  }
}

resource "aws_kms_key" "data_lake" {
  description             = "walstream data lake ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = var.tags
}

resource "aws_kms_alias" "data_lake" {
  name          = "alias/walstream/${var.bucket_name}"
  target_key_id = aws_kms_key.data_lake.key_id
}

# ---------------------------------------------------------------------------------------------
# Bucket
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "data_lake" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a business-continuity choice; the files are a transient feed, the source database and FINAL are the copies that matter.
  # checkov:skip=CKV_AWS_18:Access logging is configured by aws_s3_bucket_logging when var.access_log_bucket is set; the log bucket is the user's.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data_lake" {
  bucket                  = aws_s3_bucket.data_lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data_lake.arn
    }
  }
}

resource "aws_s3_bucket_versioning" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id

  rule {
    id     = "expire-walstream-files"
    status = "Enabled"

    filter {
      prefix = "${var.prefix}/"
    }

    expiration {
      days = var.expire_after_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expire_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.data_lake]
}

resource "aws_s3_bucket_logging" "data_lake" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.data_lake.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3-access/${var.bucket_name}/"
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOldTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  statement {
    sid       = "DenyOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid       = "DenyOtherKmsKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.data_lake.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.data_lake]
}

# Snowpipe auto-ingest: every Parquet file walstream stores under the prefix is announced to the
# account's Snowpipe queue; each pipe copies only its own <schema>/<table>/ path. The suffix
# filter keeps walstream's checkpoint (<prefix>/_walstream/<slot>/checkpoint.json) out of it.
resource "aws_s3_bucket_notification" "snowpipe" {
  count = var.snowpipe_sqs_arn == null ? 0 : 1

  bucket = aws_s3_bucket.data_lake.id

  queue {
    id            = "snowpipe-${replace(var.prefix, "/", "-")}"
    queue_arn     = var.snowpipe_sqs_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "${var.prefix}/"
    filter_suffix = ".parquet"
  }
}
