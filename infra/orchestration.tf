################################################################################
# Step Functions: gridflow-<env>-ingest (STANDARD)
#
# The workflow lives in statemachines/ingest.asl.json with ${...} placeholders;
# templatefile() fills in the function ARNs and the Map concurrency.
################################################################################

resource "aws_cloudwatch_log_group" "state_machine" {
  # The /aws/vendedlogs/ prefix keeps CloudWatch Logs from growing a resource
  # policy entry per log group for the delivery service.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): ERROR-level events without payloads; a deployment that must keep them a year sets 365 or more.
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    sid     = "StepFunctionsAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Confused-deputy guard: only this account's ingest machine.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid     = "InvokeTaskFunctions"
    actions = ["lambda:InvokeFunction"]
    resources = flatten([
      for name in local.ingest_functions : [aws_lambda_function.task[name].arn, "${aws_lambda_function.task[name].arn}:*"]
    ])
  }

  # Transform Chunks (Distributed): the ItemReader reads work/<file_id>/chunk-items.json
  # (SSE-KMS with the data key, decrypted through S3 only), and the Map Run starts child
  # executions of this machine and follows them.
  statement {
    sid       = "ReadChunkItems"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.data.arn}/work/*/chunk-items.json"]
  }

  statement {
    sid       = "DecryptChunkItems"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "StartChildExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid     = "FollowChildExecutions"
    actions = ["states:DescribeExecution", "states:StopExecution"]
    resources = [
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.state_machine_name}/*",
    ]
  }

  # Vended log delivery: these CloudWatch Logs actions do not support
  # resource-level permissions, AWS requires "*".
  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role" "state_machine" {
  name               = local.state_machine_name
  description        = "gridflow ingest state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "least-privilege"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_sfn_state_machine" "ingest" {
  #checkov:skip=CKV_AWS_285:Execution data (state inputs and outputs: keys, meter ids, causes) stays out of the logs on purpose; the execution history in Step Functions keeps it for 90 days.
  #checkov:skip=CKV_AWS_284:Tracing is the functions' Powertools logs and EMF metrics, keyed by execution name; X-Ray would add xray:* on "*" to the state machine role.
  name     = local.state_machine_name
  type     = "STANDARD"
  role_arn = aws_iam_role.state_machine.arn

  definition = templatefile("${local.repo_root}/statemachines/ingest.asl.json", {
    RegisterFunctionArn       = aws_lambda_function.task["register"].arn
    ValidateFunctionArn       = aws_lambda_function.task["validate"].arn
    TransformChunkFunctionArn = aws_lambda_function.task["transform_chunk"].arn
    AggregateFunctionArn      = aws_lambda_function.task["aggregate"].arn
    FinalizeFunctionArn       = aws_lambda_function.task["finalize"].arn
    QuarantineFunctionArn     = aws_lambda_function.task["quarantine"].arn
    RecordFailureFunctionArn  = aws_lambda_function.task["record_failure"].arn
    MapConcurrency            = var.map_concurrency
    DistributedMapConcurrency = var.distributed_map_concurrency
    AggregateShardConcurrency = var.aggregate_shard_concurrency
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    level                  = "ERROR"
    include_execution_data = false # payloads carry meter ids; keep them out of logs
  }

  tracing_configuration {
    enabled = false
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

################################################################################
# EventBridge: S3 "Object Created" under inbound/ starts an execution
################################################################################

resource "aws_cloudwatch_event_rule" "inbound" {
  name        = "${local.prefix}-inbound"
  description = "New object under inbound/ in the gridflow data bucket"

  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.data.bucket] }
      object = { key = [{ prefix = "inbound/" }] }
    }
  })
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    sid     = "EventBridgeAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "events_start" {
  statement {
    sid       = "StartIngest"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.ingest.arn]
  }
}

resource "aws_iam_role" "events" {
  name               = "${local.prefix}-inbound-events"
  description        = "EventBridge rule ${local.prefix}-inbound starting the ingest state machine"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

resource "aws_iam_role_policy" "events" {
  name   = "start-ingest"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events_start.json
}

resource "aws_cloudwatch_event_target" "ingest" {
  rule      = aws_cloudwatch_event_rule.inbound.name
  target_id = "ingest"
  arn       = aws_sfn_state_machine.ingest.arn
  role_arn  = aws_iam_role.events.arn
}
