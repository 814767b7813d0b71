output "region" {
  description = "AWS region of the stack"
  value       = local.region
}

output "data_bucket" {
  description = "Name of the data bucket (inbound/, raw/, curated/, rejected/, quarantine/, work/, athena-results/)"
  value       = try(aws_s3_bucket.data.bucket, null)
}

output "totals_table" {
  description = "Name of the DynamoDB daily totals table"
  value       = try(aws_dynamodb_table.daily_totals.name, null)
}

output "audit_table" {
  description = "Name of the DynamoDB audit table"
  value       = try(aws_dynamodb_table.audit.name, null)
}

output "state_machine_arn" {
  description = "ARN of the ingest state machine"
  value       = try(aws_sfn_state_machine.ingest.arn, null)
}

output "glue_database" {
  description = "Name of the Glue database"
  value       = try(aws_glue_catalog_database.this.name, null)
}

output "glue_table" {
  description = "Name of the Glue table of curated readings"
  value       = try(aws_glue_catalog_table.readings.name, null)
}

output "athena_workgroup" {
  description = "Name of the Athena workgroup (results in athena-results/)"
  value       = try(aws_athena_workgroup.this.name, null)
}

output "alert_topic_arn" {
  description = "ARN of the SNS alert topic"
  value       = try(aws_sns_topic.alerts.arn, null)
}

output "function_names" {
  description = "Lambda function name per task (register, validate, transform_chunk, aggregate, finalize, quarantine, record_failure)"
  value       = { for k, fn in aws_lambda_function.task : k => fn.function_name }
}

output "data_key_arn" {
  description = "ARN of the KMS key encrypting the data bucket and Athena results (grant kms:Decrypt to readers of the lake)"
  value       = try(aws_kms_key.data.arn, null)
}
