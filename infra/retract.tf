################################################################################
# Retraction: gridflow-<env>-retract (STANDARD) and its function
#
# `gridflow retract FILE_ID` starts the state machine with {"file_id": ...}.
# The function (tasks/handlers/retract.py) marks the file RETRACTING in the
# audit, deletes its daily-total items, lake objects and rejected rows, rewrites
# the items of newer files that re-delivered its intervals (under the feed's
# netting lease, an item in the totals table) and records RETRACTED. It is its
# own function and machine, apart from ingest: the ingest machine cannot invoke
# it, and neither role can do what the other does.
################################################################################

locals {
  retract_name = "${local.prefix}-retract"

  retract_statements_all = merge(local.retract_statements, {
    # The audit item is read, marked RETRACTING and closed with the attempt
    # log in transactions, which are authorised per item action.
    RecordRetraction = {
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.audit.arn]
    }
    DecryptData   = local.decrypt_data
    DecryptTables = local.decrypt_tables
    WriteOwnLogs = {
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.retract.arn}:log-stream:*"]
    }
    # PutMetricData has no resource ARN: AWS requires "*". The namespace
    # condition keeps it to gridflow's metrics.
    PutMetrics = {
      actions    = ["cloudwatch:PutMetricData"]
      resources  = ["*"]
      conditions = [{ test = "StringEquals", variable = "cloudwatch:namespace", values = ["gridflow"] }]
    }
  })
}

resource "aws_cloudwatch_log_group" "retract" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, as for the task functions (functions.tf).
  name              = "/aws/lambda/${local.retract_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_iam_role" "retract" {
  name               = local.retract_name
  description        = "gridflow retract function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "retract" {
  dynamic "statement" {
    for_each = local.retract_statements_all

    content {
      sid       = statement.key
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = try(statement.value.conditions, [])

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "retract" {
  name   = "least-privilege"
  role   = aws_iam_role.retract.id
  policy = data.aws_iam_policy_document.retract.json
}

resource "aws_lambda_function" "retract" {
  #checkov:skip=CKV_AWS_117:No private network to reach, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_115:Run one file at a time by an operator; reserved concurrency would only carve account quota.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by the retract state machine; a dead-letter queue would never receive anything.
  #checkov:skip=CKV_AWS_272:No signing step in the deploy, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_173:The environment holds resource names and sizes only, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_50:Tracing is Powertools logs and EMF metrics, as for the task functions (functions.tf).
  function_name = local.retract_name
  description   = "Take a file's daily totals and lake rows back out, re-net newer files, record it in the audit"
  role          = aws_iam_role.retract.arn

  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  handler          = "tasks.handlers.retract.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = 1024
  timeout          = 300 # under tasks.adapters.netting_lease.LEASE_SECONDS (330)
  layers           = compact([var.pandas_layer_arn, var.powertools_layer_arn])

  environment {
    variables = local.task_environment
  }

  depends_on = [
    aws_cloudwatch_log_group.retract,
    aws_iam_role_policy.retract,
  ]
}

################################################################################
# The state machine: one Task, no execution logs. Executions are rare operator
# runs whose history Step Functions keeps (90 days) and whose outcome is in the
# audit item; without a log destination the role needs no logs:* on "*".
################################################################################

data "aws_iam_policy_document" "retract_machine" {
  statement {
    sid       = "InvokeRetractFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.retract.arn, "${aws_lambda_function.retract.arn}:*"]
  }
}

resource "aws_iam_role" "retract_machine" {
  name               = "${local.retract_name}-machine"
  description        = "gridflow retract state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

resource "aws_iam_role_policy" "retract_machine" {
  name   = "least-privilege"
  role   = aws_iam_role.retract_machine.id
  policy = data.aws_iam_policy_document.retract_machine.json
}

resource "aws_sfn_state_machine" "retract" {
  #checkov:skip=CKV_AWS_285:No execution logs on purpose (see above); the execution history keeps each run.
  #checkov:skip=CKV_AWS_284:Tracing is the function's Powertools logs and EMF metrics, as for ingest.
  name     = local.retract_name
  type     = "STANDARD"
  role_arn = aws_iam_role.retract_machine.arn

  definition = templatefile("${local.repo_root}/statemachines/retract.asl.json", {
    RetractFunctionArn = aws_lambda_function.retract.arn
  })

  tracing_configuration {
    enabled = false
  }

  depends_on = [aws_iam_role_policy.retract_machine]
}

output "retract_state_machine_arn" {
  description = "ARN of the retract state machine (`gridflow retract FILE_ID` starts it)"
  value       = try(aws_sfn_state_machine.retract.arn, null)
}
