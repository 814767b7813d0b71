################################################################################
# Compaction's schedule (the machine is in operator_workflows.tf)
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
    resources = [aws_sfn_state_machine.operator_workflow["compact"].arn]
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
  arn       = aws_sfn_state_machine.operator_workflow["compact"].arn
  role_arn  = aws_iam_role.compact_events.arn
  input = jsonencode({
    feed          = ""
    from          = ""
    to            = ""
    lookback_days = var.compaction_lookback_days
    target_bytes  = var.compaction_target_bytes
  })
}
