################################################################################
# gridflow's data key: S3 objects, Athena results, both DynamoDB tables and
# the log groups
#
# A customer managed key rather than SSE-S3 or the AWS managed keys: smart-meter
# readings and daily totals are personal data in most markets, and a CMK gives a
# key policy, CloudTrail records of each use and one switch that cuts access to
# every copy at once. The bucket key below keeps the KMS request count (and cost)
# near SSE-S3 even with thousands of chunks; DynamoDB caches its table key.
################################################################################

resource "aws_kms_key" "data" {
  description             = "${local.prefix} data (S3 objects, Athena results, DynamoDB tables, log groups)"
  enable_key_rotation     = true
  deletion_window_in_days = var.environment == "prod" ? 30 : 7
  policy                  = data.aws_iam_policy_document.data_key.json
}

# In a key policy, the resource "*" means this key (AWS requires "*" there).
data "aws_iam_policy_document" "data_key" {
  # AWS's default key policy: the account, and so the IAM policies in it, decide
  # who may use and manage the key (the function roles get kms:Decrypt or
  # kms:GenerateDataKey through S3 or DynamoDB only, see iam.tf). kms:* to the
  # account root is what keeps the key manageable: a key policy without it can
  # lock every administrator out of the key.
  statement {
    sid       = "AccountManagesKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts this stack's log groups with the key, and no others.
  statement {
    sid = "LogsEncryptGridflowLogGroups"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [for prefix in local.log_group_prefixes : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${prefix}*"]
    }
  }
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.prefix}-data"
  target_key_id = aws_kms_key.data.key_id
}

################################################################################
# Data bucket: inbound/, raw/, curated/, rejected/, quarantine/, work/,
# athena-results/
################################################################################

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:Server access logs need a second bucket that cannot use SSE-KMS and cannot log itself; object-level audit belongs in an account CloudTrail trail with S3 data events (docs/security.md).
  #checkov:skip=CKV_AWS_144:Cross-region replication is a per-deployment disaster-recovery and data-residency decision (readings are personal data); versioning and PITR cover mistakes within the region.
  bucket = local.bucket_name

  # Outside prod, destroy also removes the objects (tests and dev stacks).
  force_destroy = var.environment != "prod"
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket = aws_s3_bucket.data.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "expire-work"
    status = "Enabled"

    filter {
      prefix = "work/"
    }

    expiration {
      days = 7
    }
  }

  rule {
    id     = "expire-athena-results"
    status = "Enabled"

    filter {
      prefix = "athena-results/"
    }

    expiration {
      days = 30
    }
  }

  # Versioning keeps what a rerun overwrites and what Finalize moves out of
  # inbound/: keep those old versions for a month, not for ever.
  rule {
    id     = "tidy-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Creating this takes about a minute on any endpoint: the provider polls the
  # rules until it reads them back unchanged 10 times in a row.
  depends_on = [aws_s3_bucket_versioning.data]
}

# TLS only. The one resource that differs between AWS and the emulator
# (docs/security.md): it is not attached when the endpoint is plain HTTP. There
# every request is non-TLS, so the policy would rightly deny all of them; and
# moto 5.2.5 evaluates only StringEquals conditions, treating `Bool` as always
# met, so it would deny every object request even over HTTPS. The document itself
# is rendered on both.
data "aws_iam_policy_document" "data_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data.arn,
      "${aws_s3_bucket.data.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  count = local.plain_http_endpoint ? 0 : 1

  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.data_bucket.json

  # S3 rejects a bucket policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.data]
}

# S3 "Object Created" events go to EventBridge, where the inbound/ rule picks
# them up (orchestration.tf).
resource "aws_s3_bucket_notification" "data" {
  bucket      = aws_s3_bucket.data.id
  eventbridge = true

  # moto workaround: moto answers {} when asked for the notification
  # configuration, so a plan after apply shows `eventbridge` drifting back to
  # true. Harmless on moto; on AWS the value reads back and nothing drifts.
}
