################################################################################
# Task functions
#
# The functions of local.functions, from one zip (gridflow.lambda_bundle builds it reproducibly;
# hashicorp/archive is not needed). Handler: tasks.handlers.<name>.handler.
# pandas/pyarrow and Powertools come from the AWS managed layers.
################################################################################

locals {
  # What every gridflow function reads through tasks.adapters.settings (the retract function too).
  task_environment = {
    DATA_BUCKET                  = aws_s3_bucket.data.bucket
    TOTALS_TABLE                 = aws_dynamodb_table.daily_totals.name
    AUDIT_TABLE                  = aws_dynamodb_table.audit.name
    ALERT_TOPIC_ARN              = aws_sns_topic.alerts.arn
    CHUNK_BYTES                  = tostring(var.chunk_bytes)
    MAX_FILE_BYTES               = tostring(var.max_file_bytes)
    DISTRIBUTED_MAP_THRESHOLD    = tostring(var.distributed_map_threshold)
    AGGREGATE_SHARD_METERS       = tostring(var.aggregate_shard_meters)
    AGGREGATE_SHARDS             = tostring(var.aggregate_shards)
    TOTALS_WRITE_THREADS         = tostring(var.totals_write_threads)
    POWERTOOLS_SERVICE_NAME      = "gridflow"
    POWERTOOLS_METRICS_NAMESPACE = "gridflow"
    LOG_LEVEL                    = "INFO"
  }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): the logs hold run metadata, never rows, and a deployment that must keep them a year sets 365 or more.
  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_lambda_function" "task" {
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs (S3, DynamoDB, SNS, CloudWatch) and reach no private network; a VPC would add NAT or endpoints and cold-start time with nothing to protect.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded where the work is fanned out (Map MaxConcurrency, var.map_concurrency); reserved concurrency would carve account quota (impossible on accounts with the default limit of 10) without limiting anything more.
  #checkov:skip=CKV_AWS_116:Step Functions invokes every function synchronously, so a dead-letter queue (async invokes only) would never receive anything; failures go to Retry/Catch, the audit table and SNS.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step that the deploy does not have; who may update function code is decided by IAM on the deploying role.
  #checkov:skip=CKV_AWS_173:The environment holds only resource names and sizes, no secrets (CKV_AWS_45 passes); Lambda encrypts it at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_50:Tracing is Powertools JSON logs (file id and execution on every line) and EMF metrics; X-Ray would add xray:PutTraceSegments on "*" to every role.
  for_each = local.functions

  function_name = local.function_names[each.key]
  description   = each.value.description
  role          = aws_iam_role.function[each.key].arn

  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  handler          = "tasks.handlers.${each.key}.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = try(each.value.memory_mb, 1024)
  timeout          = each.value.timeout
  # AWS managed layers of other accounts. moto workaround: moto only accepts
  # layers published to itself; gridflow.emulator.terraform_shims lets it take
  # other accounts' layer ARNs as they are (handlers run in-process there).
  layers = compact([var.pandas_layer_arn, var.powertools_layer_arn])

  environment {
    variables = local.task_environment
  }

  # The log group exists (with its retention) before the first invocation, and
  # the role's inline policy before the first call the function makes.
  depends_on = [
    aws_cloudwatch_log_group.function,
    aws_iam_role_policy.function,
  ]
}
