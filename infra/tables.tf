################################################################################
# DynamoDB
#
# daily_totals: one item per (feed#meter, day#file) and per (feed#*, day#file),
# written idempotently by key with BatchWriteItem (see ARCHITECTURE.md).
# audit: one item per file, its attempt log and error items; by_status lists the
# files in a status ordered by their last change.
# Both encrypted at rest with the data key (storage.tf): daily totals per meter
# are personal data like the readings. Callers need kms:Decrypt through DynamoDB
# (iam.tf). Point-in-time recovery on both.
################################################################################

resource "aws_dynamodb_table" "daily_totals" {
  name         = "${local.prefix}-daily-totals"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  deletion_protection_enabled = var.environment == "prod"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }
}

resource "aws_dynamodb_table" "audit" {
  name         = "${local.prefix}-audit"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  deletion_protection_enabled = var.environment == "prod"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "updated_at"
    type = "S"
  }

  global_secondary_index {
    name            = "by_status"
    hash_key        = "status"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }
}
