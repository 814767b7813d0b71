################################################################################
# Retraction: gridflow-<env>-retract (STANDARD)
#
# `gridflow retract FILE_ID` starts the state machine with {"file_id": ...}.
# Its one Task invokes the retract function (an entry of local.functions, with
# its own role: tasks/handlers/retract.py), which marks the file RETRACTING in
# the audit, deletes its daily-total items, lake objects and rejected rows,
# rewrites the items of newer files that re-delivered its intervals (under the
# feed's netting lease, an item in the totals table) and records RETRACTED. It
# is its own machine, apart from ingest: the ingest machine cannot invoke it.
################################################################################

locals {
  retract_name = "${local.prefix}-retract"
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
    resources = [aws_lambda_function.task["retract"].arn, "${aws_lambda_function.task["retract"].arn}:*"]
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
    RetractFunctionArn = aws_lambda_function.task["retract"].arn
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
