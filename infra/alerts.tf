################################################################################
# Alerts: Finalize, Quarantine and RecordFailure publish here
################################################################################

resource "aws_sns_topic" "alerts" {
  name = "${local.prefix}-alerts"

  # AWS managed key: no key policy to run. Enough for publishers in this
  # account (the task functions); EventBridge or CloudWatch alarms could not
  # publish to it, they would need a customer managed key.
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "alert_email" {
  count = var.alert_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}
