################################################################################
# Task function roles: one role per function, least privilege.
#
# Statements are keyed by purpose; the key becomes the statement's Sid. Exact
# actions on exact ARNs; "*" resources only where AWS has no resource ARN for
# the action, each with its reason.
################################################################################

locals {
  s3_prefix_arn = {
    for prefix in ["inbound", "raw", "curated", "rejected", "quarantine", "work"] :
    prefix => "${aws_s3_bucket.data.arn}/${prefix}/*"
  }

  # S3 calls KMS on the caller's behalf: allow the data key only through S3.
  kms_via_s3 = [{
    test     = "StringEquals"
    variable = "kms:ViaService"
    values   = ["s3.${local.region}.amazonaws.com"]
  }]

  # HeadObject is authorised by s3:GetObject (there is no s3:HeadObject action);
  # s3:GetObjectVersion lets a handler pin the version EventBridge reported.
  read_objects = ["s3:GetObject", "s3:GetObjectVersion"]

  # Moving an object (copy, then delete) also copies its tags when it has any,
  # which S3 authorises with these two actions.
  read_objects_with_tags  = concat(local.read_objects, ["s3:GetObjectTagging"])
  write_objects_with_tags = ["s3:PutObject", "s3:PutObjectTagging"]

  # Without s3:ListBucket, S3 answers 403 instead of 404 for a missing key, and
  # tasks/adapters/s3_objects.head() (used by Register and by every move) tells
  # "gone" from "forbidden" by the 404. No prefix condition here: HeadObject
  # carries no s3:prefix, so a conditional grant would not count.
  see_missing_objects = {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }

  # Reading SSE-KMS objects needs kms:Decrypt; writing them needs
  # kms:GenerateDataKey (and kms:Decrypt again for multipart uploads).
  decrypt_data = {
    actions    = ["kms:Decrypt"]
    resources  = [aws_kms_key.data.arn]
    conditions = local.kms_via_s3
  }
  use_data_key = {
    actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources  = [aws_kms_key.data.arn]
    conditions = local.kms_via_s3
  }

  # The tables are encrypted with the data key too. DynamoDB decrypts a table's
  # key on behalf of each caller (and caches it for that caller a few minutes),
  # so every function that uses a table gets kms:Decrypt, through DynamoDB only.
  decrypt_tables = {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
    conditions = [{
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }]
  }

  # Where a file's original can be: dropped, archived after a load, or quarantined (a rerun reads it there).
  # s3:ListBucket limited to key prefixes, one statement per set of prefixes a function lists
  list_prefixes = {
    for name, prefixes in {
      work                  = ["work/*"]
      work_and_lake         = ["work/*", "curated/readings/*"]
      work_lake_and_rejects = ["work/*", "curated/readings/*", "rejected/*"]
      } : name => {
      actions    = ["s3:ListBucket"]
      resources  = [aws_s3_bucket.data.arn]
      conditions = [{ test = "StringLike", variable = "s3:prefix", values = prefixes }]
    }
  }
  original_locations = [local.s3_prefix_arn.inbound, local.s3_prefix_arn.raw, local.s3_prefix_arn.quarantine]

  # Taking a load back out (tasks/steps/retract_outputs.py; Quarantine, Record Failure and Retract): find
  # what it left (chunk manifests and partial totals in work/, its feed-day items, its objects in the day
  # partitions and under rejected/), then under the feed's netting lease (a conditional item in the totals
  # table) delete its items and objects and rewrite the items of newer files that re-delivered its intervals,
  # worked out from the committed files' curated Parquet.
  retract_statements = {
    ListWorkLakeAndRejects = local.list_prefixes.work_lake_and_rejects
    ReadWorkAndLake = {
      actions   = ["s3:GetObject"]
      resources = [local.s3_prefix_arn.work, local.s3_prefix_arn.curated]
    }
    DeleteLoadedObjects = {
      actions   = ["s3:DeleteObject"]
      resources = [local.s3_prefix_arn.curated, local.s3_prefix_arn.rejected]
    }
    RetractTotals = {
      actions   = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query"]
      resources = [aws_dynamodb_table.daily_totals.arn]
    }
  }

  publish_alert = {
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  function_statements = {
    register = {
      ReadInbound = {
        actions   = local.read_objects
        resources = local.original_locations
      }
      SeeMissingObjects = local.see_missing_objects
      # A second copy of content already loaded (or in flight) is removed.
      RemoveDuplicate = {
        actions   = ["s3:DeleteObject"]
        resources = [local.s3_prefix_arn.inbound]
      }
      DecryptData = local.decrypt_data
      # TransactWriteItems is authorised per item action (Put, Update,
      # ConditionCheck), so these cover the lease transaction too.
      LeaseFile = {
        actions = [
          "dynamodb:ConditionCheckItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ]
        resources = [aws_dynamodb_table.audit.arn]
      }
    }

    validate = {
      ReadInbound = {
        actions   = local.read_objects
        resources = local.original_locations
      }
      WriteChunkPlanAndDecompressedCopy = {
        actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
        resources = [local.s3_prefix_arn.work]
      }
      UseDataKey = local.use_data_key
      UpdateAudit = {
        actions   = ["dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
    }

    transform_chunk = {
      ReadInbound = {
        actions   = local.read_objects
        resources = local.original_locations
      }
      ReadDecompressedCopy = {
        actions   = ["s3:GetObject"]
        resources = [local.s3_prefix_arn.work]
      }
      WriteOutputs = {
        actions = ["s3:PutObject"]
        resources = [
          local.s3_prefix_arn.curated,
          local.s3_prefix_arn.rejected,
          local.s3_prefix_arn.work,
        ]
      }
      UseDataKey = local.use_data_key
    }

    aggregate = {
      # partial totals in work/, and the curated Parquet of the days the file touches (re-delivery netting)
      ReadPartialsAndLake = {
        actions   = ["s3:GetObject"]
        resources = [local.s3_prefix_arn.work, local.s3_prefix_arn.curated]
      }
      ListPartialsAndLake = local.list_prefixes.work_and_lake
      DecryptData         = local.decrypt_data
      WriteTotals = {
        actions = [
          "dynamodb:BatchWriteItem",
          "dynamodb:DeleteItem",
          "dynamodb:PutItem",
          "dynamodb:Query",
        ]
        resources = [aws_dynamodb_table.daily_totals.arn]
      }
      UpdateAudit = {
        actions   = ["dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
    }

    finalize = {
      ReadOriginal = {
        actions   = local.read_objects_with_tags
        resources = local.original_locations
      }
      SeeMissingObjects = local.see_missing_objects
      RemoveOriginal = {
        actions   = ["s3:DeleteObject"]
        resources = [local.s3_prefix_arn.inbound, local.s3_prefix_arn.quarantine]
      }
      ArchiveRaw = {
        actions   = local.write_objects_with_tags
        resources = [local.s3_prefix_arn.raw]
      }
      UseDataKey = local.use_data_key
      RecordLoad = {
        actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
      PublishAlert = local.publish_alert
    }

    quarantine = merge(local.retract_statements, {
      ReadOriginal = {
        actions   = local.read_objects_with_tags
        resources = local.original_locations
      }
      SeeMissingObjects = local.see_missing_objects
      RemoveOriginal = {
        actions   = ["s3:DeleteObject"]
        resources = [local.s3_prefix_arn.inbound, local.s3_prefix_arn.raw]
      }
      WriteQuarantine = {
        actions   = local.write_objects_with_tags
        resources = [local.s3_prefix_arn.quarantine]
      }
      UseDataKey = local.use_data_key
      RecordQuarantine = {
        actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
      PublishAlert = local.publish_alert
    })

    record_failure = merge(local.retract_statements, {
      RecordFailure = {
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
      DecryptData  = local.decrypt_data
      PublishAlert = local.publish_alert
    })

    # The audit item is read, marked RETRACTING and closed with the attempt log
    # in transactions, which are authorised per item action.
    retract = merge(local.retract_statements, {
      RecordRetraction = {
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = [aws_dynamodb_table.audit.arn]
      }
      DecryptData = local.decrypt_data
    })

    compact = {
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
    }
  }

  # DecryptTables for the functions that call DynamoDB (any dynamodb: action).
  table_key_statements = {
    for name, statements in local.function_statements : name => {
      for sid, statement in { DecryptTables = local.decrypt_tables } : sid => statement
      if anytrue([for purpose in values(statements) : anytrue([for action in purpose.actions : startswith(action, "dynamodb:")])])
    }
  }

  # Every function: its own log group, and metrics in the gridflow namespace.
  common_statements = {
    for name in keys(local.functions) : name => {
      WriteOwnLogs = {
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["${aws_cloudwatch_log_group.function[name].arn}:log-stream:*"]
      }
      # PutMetricData has no resource ARN: AWS requires "*". The namespace
      # condition keeps it to gridflow's metrics.
      PutMetrics = {
        actions   = ["cloudwatch:PutMetricData"]
        resources = ["*"]
        conditions = [{
          test     = "StringEquals"
          variable = "cloudwatch:namespace"
          values   = ["gridflow"]
        }]
      }
    }
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = local.function_names[each.key]
  description        = "gridflow ${each.key} task function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  dynamic "statement" {
    for_each = merge(local.common_statements[each.key], local.function_statements[each.key], local.table_key_statements[each.key])

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

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}
