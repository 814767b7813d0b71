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
# The function is an entry of local.functions (workflow "compact"): its own
# role touches only curated/, and only this machine may invoke it.
################################################################################

locals {
  compact_name = "${local.prefix}-compact"
}

################################################################################
# The state machine: no execution logs, as for retract; each run's partitions
# and counts are in its execution history, the function logs each partition.
################################################################################

data "aws_iam_policy_document" "compact_machine" {
  statement {
    sid       = "InvokeCompactFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.task["compact"].arn, "${aws_lambda_function.task["compact"].arn}:*"]
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
    CompactFunctionArn = aws_lambda_function.task["compact"].arn
  })

  tracing_configuration {
    enabled = false
  }

  depends_on = [aws_iam_role_policy.compact_machine]
}

################################################################################
# The schedule: EventBridge starts the machine with the whole input it needs.
# (The emulator has no scheduler: there, tests and users run `gridflow compact`.)
################################################################################

resource "aws_cloudwatch_event_rule" "compact" {
  name                = "${local.compact_name}-schedule"
  description         = "Nightly compaction of the lake's recent partitions"
  schedule_expression = var.compaction_schedule
  state               = var.compaction_schedule_enabled ? "ENABLED" : "DISABLED"
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
