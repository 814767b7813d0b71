################################################################################
# Operator workflows: gridflow-<env>-retract and gridflow-<env>-compact
#
# One STANDARD state machine each, beside ingest, invoking only its own
# function of local.functions (workflow = the key here):
# - retract (`gridflow retract FILE_ID`, input {"file_id": ...}): takes a
#   file's daily totals, lake rows and rejected rows back out, re-nets the newer
#   files that re-delivered its intervals (under the feed's netting lease) and
#   records RETRACTED in the audit;
# - compact (`gridflow compact`, and the nightly schedule in compaction.tf):
#   merges each day partition's small objects (docs/lake-layout.md).
# No execution logs: the runs are rare, their history is kept by Step
# Functions (90 days) and their outcome is in the audit item or the function's
# logs; without a log destination a role needs no logs:* on "*".
################################################################################

locals {
  operator_workflows = {
    retract = { definition = "retract.asl.json", function_placeholder = "RetractFunctionArn" }
    compact = { definition = "compact.asl.json", function_placeholder = "CompactFunctionArn" }
  }
}

data "aws_iam_policy_document" "operator_workflow" {
  for_each = local.operator_workflows

  statement {
    sid       = "InvokeItsFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.task[each.key].arn, "${aws_lambda_function.task[each.key].arn}:*"]
  }
}

resource "aws_iam_role" "operator_workflow" {
  for_each = local.operator_workflows

  name               = "${local.prefix}-${each.key}-machine"
  description        = "gridflow ${each.key} state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

resource "aws_iam_role_policy" "operator_workflow" {
  for_each = local.operator_workflows

  name   = "least-privilege"
  role   = aws_iam_role.operator_workflow[each.key].id
  policy = data.aws_iam_policy_document.operator_workflow[each.key].json
}

resource "aws_sfn_state_machine" "operator_workflow" {
  #checkov:skip=CKV_AWS_285:No execution logs on purpose (see above); the execution history keeps each run.
  #checkov:skip=CKV_AWS_284:Tracing is the function's Powertools logs and EMF metrics, as for ingest.
  for_each = local.operator_workflows

  name     = "${local.prefix}-${each.key}"
  type     = "STANDARD"
  role_arn = aws_iam_role.operator_workflow[each.key].arn

  definition = templatefile("${local.repo_root}/statemachines/${each.value.definition}", {
    (each.value.function_placeholder) = aws_lambda_function.task[each.key].arn
  })

  tracing_configuration {
    enabled = false
  }

  depends_on = [aws_iam_role_policy.operator_workflow]
}

output "retract_state_machine_arn" {
  description = "ARN of the retract state machine (`gridflow retract FILE_ID` starts it)"
  value       = try(aws_sfn_state_machine.operator_workflow["retract"].arn, null)
}

output "compact_state_machine_arn" {
  description = "ARN of the compact state machine (`gridflow compact --feed F` starts it)"
  value       = try(aws_sfn_state_machine.operator_workflow["compact"].arn, null)
}
