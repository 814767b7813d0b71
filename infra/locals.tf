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

  # The functions: one zip, one handler module each, one role each; `workflow`
  # is the state machine that invokes it (and the only one allowed to).
  functions = {
    register = {
      description = "Identify an inbound file and take its lease in the audit table"
      workflow    = "ingest"
      timeout     = 60
    }
    validate = {
      description = "Check a file against its feed contract and plan its chunks"
      workflow    = "ingest"
      timeout     = 300
    }
    transform_chunk = {
      description = "Parse one byte range to curated Parquet, rejected rows and partial totals"
      workflow    = "ingest"
      timeout     = 300
    }
    aggregate = {
      description = "Combine partial totals and write them idempotently to DynamoDB"
      workflow    = "ingest"
      timeout     = 300
    }
    finalize = {
      description = "Archive the original under raw/, record the load and alert on thresholds"
      workflow    = "ingest"
      timeout     = 300
    }
    quarantine = {
      description = "Move an untrusted file to quarantine/ with the reason"
      workflow    = "ingest"
      timeout     = 300
    }
    record_failure = {
      description = "Record a failed execution in the audit table and alert"
      workflow    = "ingest"
      timeout     = 300 # it takes a failed load back out and re-nets, as retract does
    }
    retract = {
      description = "Take a file's daily totals and lake rows back out, re-net newer files, record it in the audit"
      workflow    = "retract"
      timeout     = 300 # under tasks.adapters.netting_lease.LEASE_SECONDS (330)
    }
    compact = {
      description = "List the lake partitions to compact; merge one partition's small objects under the feed's netting lease"
      workflow    = "compact"
      timeout     = 300 # under tasks.adapters.netting_lease.LEASE_SECONDS (330)
      memory_mb   = var.compaction_memory_mb
    }
  }

  function_names   = { for k, _ in local.functions : k => "${local.prefix}-${replace(k, "_", "-")}" }
  ingest_functions = [for k, v in local.functions : k if v.workflow == "ingest"]

  # Where this stack's log groups live: the data key's policy lets CloudWatch
  # Logs encrypt these, and no other log groups.
  log_group_prefixes = ["/aws/lambda/${local.prefix}-", "/aws/vendedlogs/states/${local.prefix}-"]

  # Placeholders of statemachines/ingest.asl.json.
  state_machine_name = "${local.prefix}-ingest"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
}
