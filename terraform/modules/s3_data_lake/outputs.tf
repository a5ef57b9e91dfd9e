output "bucket_name" {
  description = "Name of the data-lake bucket."
  value       = aws_s3_bucket.data_lake.id
}

output "bucket_arn" {
  description = "ARN of the data-lake bucket."
  value       = aws_s3_bucket.data_lake.arn
}

output "prefix" {
  description = "Key prefix walstream writes under."
  value       = var.prefix
}

output "dest_url" {
  description = "Value for walstream's --dest / WALSTREAM_DEST."
  value       = "s3://${aws_s3_bucket.data_lake.id}/${var.prefix}"
}

output "kms_key_arn" {
  description = "ARN of the bucket's dedicated KMS key."
  value       = aws_kms_key.data_lake.arn
}
