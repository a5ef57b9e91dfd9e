# IAM for walstream on ECS and for Snowflake's storage integration, each limited to the one bucket
# prefix, the one KMS key and the one secret it needs (tests/test_deploy.py checks this):
#
#   task role       PutObject/GetObject/ListBucket on <bucket>/<prefix>, KMS data keys of the
#                   data-lake key, GetSecretValue of one secret, rds-db:connect as one DB user
#   execution role  pull the image, write the task's log stream, inject the one secret
#   snowflake role  read-only on <bucket>/<prefix>, Decrypt with the data-lake key, trusted only
#                   by the integration's IAM user with the integration's external id

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  partition          = data.aws_partition.current.partition
  objects_arn        = "${var.bucket_arn}/${var.prefix}/*"
  snowflake_enabled  = var.snowflake_iam_user_arn != null
  snowflake_role     = coalesce(var.snowflake_role_name, "${var.name}-snowflake")
  snowflake_role_arn = "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${local.snowflake_role}"
  rds_db_user_arn    = var.db_cluster_resource_id == null ? null : "arn:${local.partition}:rds-db:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:dbuser:${var.db_cluster_resource_id}/${var.db_user}"
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    sid     = "EcsTasksAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Task role: what the walstream process itself may do.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "task" {
  statement {
    sid    = "WriteAndReadWalstreamFiles"
    effect = "Allow"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [local.objects_arn]
  }

  # The start-up check writes a probe object under <prefix>/_walstream/ and deletes it again;
  # data files are never deleted, so DeleteObject is limited to walstream's own sub-prefix.
  statement {
    sid       = "DeleteStartupProbes"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = ["${var.bucket_arn}/${var.prefix}/_walstream/*"]
  }

  # Listing only under var.prefix, a listing without a prefix included (no "IfExists": that
  # would let the whole bucket be listed). walstream's start-up check lists under the prefix
  # instead of HeadBucket, and reads a 403 on a key it then finds absent by a listing of that
  # key as "missing" (S3 says 404 only to callers that may list the whole bucket).
  statement {
    sid       = "ListWalstreamPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.prefix, "${var.prefix}/*"]
    }
  }

  statement {
    sid       = "EncryptWithDataLakeKey"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = var.db_secret_arn == null ? [] : [var.db_secret_arn]

    content {
      sid       = "ReadDatabaseSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.db_secret_kms_key_arn == null ? [] : [var.db_secret_kms_key_arn]

    content {
      sid       = "DecryptDatabaseSecret"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.rds_db_user_arn == null ? [] : [local.rds_db_user_arn]

    content {
      sid       = "ConnectWithIamToken"
      effect    = "Allow"
      actions   = ["rds-db:connect"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.metrics_log_group_arn == null ? [] : [var.metrics_log_group_arn]

    content {
      sid       = "PublishMetricsThroughEmf"
      effect    = "Allow"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      resources = [statement.value, "${statement.value}:*"]
    }
  }
}

resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  description          = "walstream process: write its S3 prefix, use its KMS key, read its DB secret"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_trust.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "walstream"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---------------------------------------------------------------------------------------------
# Execution role: what ECS does on the task's behalf before the process starts.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "execution" {
  statement {
    # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only valid value.
    sid       = "EcrLogin"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]

    content {
      sid       = "PullWalstreamImage"
      effect    = "Allow"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteTaskLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${var.log_group_arn}:*"]
  }

  dynamic "statement" {
    for_each = var.db_secret_arn == null ? [] : [var.db_secret_arn]

    content {
      sid       = "InjectDatabaseSecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.db_secret_kms_key_arn == null ? [] : [var.db_secret_kms_key_arn]

    content {
      sid       = "DecryptInjectedSecret"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  description          = "ECS agent for walstream: pull the image, write logs, inject the DB secret"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_trust.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------------------------------------
# Snowflake storage integration role: read-only on the prefix, external-id trust.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "snowflake_trust" {
  count = local.snowflake_enabled ? 1 : 0

  statement {
    sid     = "SnowflakeStorageIntegration"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.snowflake_iam_user_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.snowflake_external_id]
    }
  }
}

data "aws_iam_policy_document" "snowflake" {
  statement {
    sid       = "ReadWalstreamFiles"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
  }

  statement {
    sid       = "ListWalstreamPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.prefix, "${var.prefix}/*"]
    }
  }

  statement {
    sid       = "DecryptWithDataLakeKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "snowflake" {
  count = local.snowflake_enabled ? 1 : 0

  name                 = local.snowflake_role
  description          = "Snowflake storage integration: read-only on the walstream prefix"
  assume_role_policy   = data.aws_iam_policy_document.snowflake_trust[0].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "snowflake" {
  count = local.snowflake_enabled ? 1 : 0

  name   = "read-walstream-prefix"
  role   = aws_iam_role.snowflake[0].id
  policy = data.aws_iam_policy_document.snowflake.json
}
