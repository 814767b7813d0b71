################################################################################
# Compaction: gridflow-<env>-compact (STANDARD), its function and its schedule
#
# Merges the small objects of each (feed, reading_date) partition of the lake
# into compacted objects of var.compaction_target_bytes (docs/lake-layout.md).
# "List Partitions" lists the partitions with two or more objects, a Map runs
# "Compact Partition" on each; the function takes the feed's netting lease (an
# item in the totals table) so it never interleaves with Aggregate, a re-netting
# or a retraction of the same feed. Started nightly by an EventBridge schedule,
# or by `gridflow compact --feed F [--from D --to D]`.
#
# Like retract.tf, the function is its own (not one of local.functions): the
# ingest machine may invoke every task function, and it has no business
# rewriting the lake; this function's role can touch only curated/.
################################################################################

locals {
  compact_name = "${local.prefix}-compact"

  compact_statements = {
    # list_objects_v2 of curated/readings/ (feeds, with a delimiter) and of
    # the day partitions
    ListLake = {
      actions    = ["s3:ListBucket"]
      resources  = [aws_s3_bucket.data.arn]
      conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["curated/readings/*"] }]
    }
    # read the inputs (and compacted objects' footers), write the compacted
    # object, delete the inputs (DeleteObjects is authorised as s3:DeleteObject)
    RewriteLake = {
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = [local.s3_prefix_arn.curated]
    }
    UseDataKey = local.use_data_key
    # only files whose audit status is LOADED are compacted
    ReadFileStatus = {
      actions   = ["dynamodb:GetItem"]
      resources = [aws_dynamodb_table.audit.arn]
    }
    # the feed's netting lease: conditional PutItem, conditional DeleteItem
    HoldNettingLease = {
      actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
      resources = [aws_dynamodb_table.daily_totals.arn]
    }
    DecryptTables = local.decrypt_tables
    WriteOwnLogs = {
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.compact.arn}:log-stream:*"]
    }
    # PutMetricData has no resource ARN: AWS requires "*". The namespace
    # condition keeps it to gridflow's metrics.
    PutMetrics = {
      actions    = ["cloudwatch:PutMetricData"]
      resources  = ["*"]
      conditions = [{ test = "StringEquals", variable = "cloudwatch:namespace", values = ["gridflow"] }]
    }
  }
}

resource "aws_cloudwatch_log_group" "compact" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, as for the task functions (functions.tf).
  name              = "/aws/lambda/${local.compact_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_iam_role" "compact" {
  name               = local.compact_name
  description        = "gridflow compact function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "compact" {
  dynamic "statement" {
    for_each = local.compact_statements

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

resource "aws_iam_role_policy" "compact" {
  name   = "least-privilege"
  role   = aws_iam_role.compact.id
  policy = data.aws_iam_policy_document.compact.json
}

resource "aws_lambda_function" "compact" {
  #checkov:skip=CKV_AWS_117:No private network to reach, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the compact Map's MaxConcurrency (2); reserved concurrency would only carve account quota.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by the compact state machine; a dead-letter queue would never receive anything.
  #checkov:skip=CKV_AWS_272:No signing step in the deploy, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_173:The environment holds resource names and sizes only, as for the task functions (functions.tf).
  #checkov:skip=CKV_AWS_50:Tracing is Powertools logs and EMF metrics, as for the task functions (functions.tf).
  function_name = local.compact_name
  description   = "List the lake partitions to compact; merge one partition's small objects under the feed's netting lease"
  role          = aws_iam_role.compact.arn

  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  handler          = "tasks.handlers.compact.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  memory_size      = var.compaction_memory_mb
  timeout          = 300 # under tasks.adapters.netting_lease.LEASE_SECONDS (330)
  layers           = compact([var.pandas_layer_arn, var.powertools_layer_arn])

  environment {
    variables = local.task_environment
  }

  depends_on = [
    aws_cloudwatch_log_group.compact,
    aws_iam_role_policy.compact,
  ]
}

################################################################################
# The state machine: no execution logs, as for retract; each run's partitions
# and counts are in its execution history, the function logs each partition.
################################################################################

data "aws_iam_policy_document" "compact_machine" {
  statement {
    sid       = "InvokeCompactFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.compact.arn, "${aws_lambda_function.compact.arn}:*"]
  }
}

resource "aws_iam_role" "compact_machine" {
  name               = "${local.compact_name}-machine"
  description        = "gridflow compact state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

resource "aws_iam_role_policy" "compact_machine" {
  name   = "least-privilege"
  role   = aws_iam_role.compact_machine.id
  policy = data.aws_iam_policy_document.compact_machine.json
}

resource "aws_sfn_state_machine" "compact" {
  #checkov:skip=CKV_AWS_285:No execution logs on purpose, as for retract; the execution history keeps each run.
  #checkov:skip=CKV_AWS_284:Tracing is the function's Powertools logs and EMF metrics, as for ingest.
  name     = local.compact_name
  type     = "STANDARD"
  role_arn = aws_iam_role.compact_machine.arn

  definition = templatefile("${local.repo_root}/statemachines/compact.asl.json", {
    CompactFunctionArn = aws_lambda_function.compact.arn
  })

  tracing_configuration {
    enabled = false
  }

  depends_on = [aws_iam_role_policy.compact_machine]
}

################################################################################
# The schedule: EventBridge starts the machine with the whole input it needs.
#
# Not on the local emulator: moto matches a schedule rule (it has no event
# pattern) against every event it delivers, so each S3 PutObject would start a
# compaction. There the rule exists DISABLED and without a target; tests and
# users run `gridflow compact`.
################################################################################

locals {
  compaction_scheduled = var.compaction_schedule_enabled && !local.emulated
}

resource "aws_cloudwatch_event_rule" "compact" {
  name                = "${local.compact_name}-schedule"
  description         = "Nightly compaction of the lake's recent partitions"
  schedule_expression = var.compaction_schedule
  state               = local.compaction_scheduled ? "ENABLED" : "DISABLED"
}

data "aws_iam_policy_document" "compact_start" {
  statement {
    sid       = "StartCompaction"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.compact.arn]
  }
}

resource "aws_iam_role" "compact_events" {
  name               = "${local.compact_name}-events"
  description        = "EventBridge schedule ${local.compact_name}-schedule starting the compact state machine"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

resource "aws_iam_role_policy" "compact_events" {
  name   = "start-compaction"
  role   = aws_iam_role.compact_events.id
  policy = data.aws_iam_policy_document.compact_start.json
}

resource "aws_cloudwatch_event_target" "compact" {
  count = local.compaction_scheduled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.compact.name
  target_id = "compact"
  arn       = aws_sfn_state_machine.compact.arn
  role_arn  = aws_iam_role.compact_events.arn
  input = jsonencode({
    feed          = ""
    from          = ""
    to            = ""
    lookback_days = var.compaction_lookback_days
    target_bytes  = var.compaction_target_bytes
  })
}

output "compact_state_machine_arn" {
  description = "ARN of the compact state machine (`gridflow compact --feed F` starts it)"
  value       = try(aws_sfn_state_machine.compact.arn, null)
}
