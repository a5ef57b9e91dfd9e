# A CloudWatch dashboard of one walstream service (one replication slot): the whole path of a
# change, per table, from the slot to FINAL. docs/operations.md#dashboards says what each graph
# shows, what healthy looks like and what a problem looks like.
#
# The body is built in widgets.tf (locals only, so it can be rendered and checked without AWS:
# tests/test_dashboards.py). The per-table graphs use SEARCH expressions, which find one time
# series per table among the metrics the CloudWatch agent forwards with the dimensions Slot and
# table (module ecs_service): a new table appears without a change here.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
}

resource "aws_cloudwatch_dashboard" "walstream" {
  dashboard_name = var.name
  dashboard_body = local.dashboard_body
}
