data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  prefix   = "gridflow-${var.environment}"
  emulated = var.endpoint != ""
  # A TLS-only bucket policy cannot be met through a plain-HTTP endpoint.
  plain_http_endpoint = startswith(var.endpoint, "http://")

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Files shared with the Python code: the Glue schema and the feed specs.
  repo_root   = "${path.module}/.."
  glue_schema = jsondecode(file("${local.repo_root}/glue/readings.json"))
  feed_names  = sort([for f in fileset("${local.repo_root}/feeds", "*.json") : trimsuffix(f, ".json")])

  bucket_name = "${local.prefix}-data-${local.account_id}"

  # The task functions: one zip, one handler module each, one role each.
  functions = {
    register = {
      description = "Identify an inbound file and take its lease in the audit table"
      timeout     = 60
    }
    validate = {
      description = "Check a file against its feed contract and plan its chunks"
      timeout     = 300
    }
    transform_chunk = {
      description = "Parse one byte range to curated Parquet, rejected rows and partial totals"
      timeout     = 300
    }
    aggregate = {
      description = "Combine partial totals and write them idempotently to DynamoDB"
      timeout     = 300
    }
    finalize = {
      description = "Archive the original under raw/, record the load and alert on thresholds"
      timeout     = 300
    }
    quarantine = {
      description = "Move an untrusted file to quarantine/ with the reason"
      timeout     = 300
    }
    record_failure = {
      description = "Record a failed execution in the audit table and alert"
      timeout     = 60
    }
  }

  function_names = { for k, _ in local.functions : k => "${local.prefix}-${replace(k, "_", "-")}" }

  # Where this stack's log groups live: the data key's policy lets CloudWatch
  # Logs encrypt these, and no other log groups.
  log_group_prefixes = ["/aws/lambda/${local.prefix}-", "/aws/vendedlogs/states/${local.prefix}-"]

  # Placeholders of statemachines/ingest.asl.json.
  state_machine_name = "${local.prefix}-ingest"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
}
