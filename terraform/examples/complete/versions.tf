terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
    snowflake = {
      source  = "snowflakedb/snowflake"
      version = ">= 1.0, < 3.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

# Credentials come from the environment (SNOWFLAKE_ORGANIZATION_NAME, SNOWFLAKE_ACCOUNT_NAME,
# SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY / SNOWFLAKE_AUTHENTICATOR, ...), never from variables.
provider "snowflake" {
  role = var.snowflake_admin_role
  preview_features_enabled = [
    "snowflake_file_format_resource",
    "snowflake_stage_resource",
    "snowflake_storage_integration_resource",
  ]
}
