################################################################################
# Task functions
#
# Seven functions from one zip (gridflow.lambda_bundle builds it reproducibly;
# hashicorp/archive is not needed). Handler: tasks.handlers.<name>.handler.
# pandas/pyarrow and Powertools come from the AWS managed layers.
################################################################################

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "task" {
  for_each = local.functions

  function_name = local.function_names[each.key]
  description   = each.value.description
  role          = aws_iam_role.function[each.key].arn

  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  handler          = "tasks.handlers.${each.key}.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 1024
  timeout          = each.value.timeout
  # AWS managed layers of other accounts. moto workaround: moto only accepts
  # layers published to itself; gridflow.emulator.terraform_shims lets it take
  # other accounts' layer ARNs as they are (handlers run in-process there).
  layers = compact([var.pandas_layer_arn, var.powertools_layer_arn])

  environment {
    variables = {
      DATA_BUCKET                  = aws_s3_bucket.data.bucket
      TOTALS_TABLE                 = aws_dynamodb_table.daily_totals.name
      AUDIT_TABLE                  = aws_dynamodb_table.audit.name
      ALERT_TOPIC_ARN              = aws_sns_topic.alerts.arn
      CHUNK_BYTES                  = tostring(var.chunk_bytes)
      MAX_FILE_BYTES               = tostring(var.max_file_bytes)
      POWERTOOLS_SERVICE_NAME      = "gridflow"
      POWERTOOLS_METRICS_NAMESPACE = "gridflow"
      LOG_LEVEL                    = "INFO"
    }
  }

  # The log group exists (with its retention) before the first invocation, and
  # the role's inline policy before the first call the function makes.
  depends_on = [
    aws_cloudwatch_log_group.function,
    aws_iam_role_policy.function,
  ]
}
