# A complete walstream deployment next to an existing Aurora PostgreSQL cluster:
#
#   Aurora (parameter group with logical replication) --> ECS Fargate walstream (one task per slot)
#     --> S3 data lake (KMS, TLS only, lifecycle) --ObjectCreated--> Snowpipe --> MERGE --> FINAL
#
# Order on a first deployment (docs/operations.md, First deployment): apply, reboot the writer
# for rds.logical_replication, create the slot, start the service, then set snowpipe_sqs_arn and
# apply again so S3 notifies Snowpipe.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/ecs/${var.name}"
}

module "aurora" {
  source = "../../modules/aurora_logical_replication"

  name   = "${var.name}-logical-replication"
  family = var.aurora_parameter_group_family
}

module "data_lake" {
  source = "../../modules/s3_data_lake"

  bucket_name       = var.bucket_name
  prefix            = var.prefix
  expire_after_days = var.expire_after_days
  snowpipe_sqs_arn  = var.snowpipe_sqs_arn
}

module "snowflake" {
  source = "../../modules/snowflake_ingest"

  database             = var.snowflake_database
  schema               = var.snowflake_schema
  dest_url             = module.data_lake.dest_url
  storage_aws_role_arn = module.iam.snowflake_role_arn
  tables               = var.tables
}

module "iam" {
  source = "../../modules/walstream_iam"

  name                   = var.name
  bucket_arn             = module.data_lake.bucket_arn
  prefix                 = module.data_lake.prefix
  kms_key_arn            = module.data_lake.kms_key_arn
  db_secret_arn          = var.db_secret_arn
  db_cluster_resource_id = var.aurora_cluster_resource_id
  db_user                = var.db_user
  log_group_arn          = local.log_group_arn
  metrics_log_group_arn  = "${local.log_group_arn}/metrics"
  ecr_repository_arn     = var.ecr_repository_arn
  snowflake_iam_user_arn = module.snowflake.storage_aws_iam_user_arn
  snowflake_external_id  = module.snowflake.storage_aws_external_id
}

module "ecs" {
  source = "../../modules/ecs_service"

  name                     = var.name
  image                    = var.image
  vpc_id                   = var.vpc_id
  private_subnet_ids       = var.private_subnet_ids
  aurora_security_group_id = var.aurora_security_group_id
  task_role_arn            = module.iam.task_role_arn
  execution_role_arn       = module.iam.execution_role_arn
  slot                     = var.slot

  walstream_environment = {
    WALSTREAM_DSN         = var.walstream_dsn
    WALSTREAM_PUBLICATION = var.publication
    WALSTREAM_DEST        = module.data_lake.dest_url
  }

  walstream_secrets = var.db_secret_arn == null ? {} : {
    PGPASSWORD = "${var.db_secret_arn}:password::"
  }
}

# The alarms on the Snowflake half (per table of var.tables) need walstream's warehouse monitor.
module "alarms" {
  source = "../../modules/alarms"

  name                   = var.name
  alarm_actions          = var.alarm_topic_arns
  db_cluster_identifier  = var.aurora_cluster_identifier
  slot                   = var.slot
  ecs_cluster_name       = module.ecs.cluster_name
  ecs_service_name       = module.ecs.service_name
  task_stopped_rule_name = module.ecs.task_stopped_rule_name

  warehouse_metrics_enabled = var.warehouse_monitor_enabled
  tables                    = var.tables
}

module "dashboard" {
  source = "../../modules/dashboard"

  name = var.name
  slot = var.slot
}
