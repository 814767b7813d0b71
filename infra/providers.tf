################################################################################
# Provider
#
# One configuration for AWS and for the local emulator. With `endpoint` set,
# every service the stack uses is sent to that URL (moto in server mode) and the
# AWS-only checks are skipped; with it empty this is a plain AWS provider that
# takes its credentials from the usual chain (env, profile, SSO, instance role).
################################################################################

provider "aws" {
  region = var.region

  # Emulator only: fixed dummy credentials, so real ones found in the
  # environment are never sent to a local endpoint.
  access_key = local.emulated ? "testing" : null
  secret_key = local.emulated ? "testing" : null

  s3_use_path_style           = local.emulated
  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated

  # moto workaround: keep asking STS for the account id. Skipping it leaves the
  # account empty in the ARNs the provider builds, and moto's Athena tag calls
  # then fail on the workgroup.
  skip_requesting_account_id = false

  # moto workaround: an unimplemented call answers 500, which the provider
  # retries with backoff for 10+ minutes by default. Fail fast on the emulator,
  # but not on the first try: a keep-alive connection the emulator has just
  # closed ("use of closed network connection") needs one more attempt.
  max_retries = local.emulated ? 3 : null

  dynamic "endpoints" {
    for_each = local.emulated ? [var.endpoint] : []

    content {
      athena     = endpoints.value
      cloudwatch = endpoints.value
      dynamodb   = endpoints.value
      events     = endpoints.value
      glue       = endpoints.value
      iam        = endpoints.value
      kms        = endpoints.value
      lambda     = endpoints.value
      logs       = endpoints.value
      s3         = endpoints.value
      sfn        = endpoints.value
      sns        = endpoints.value
      sts        = endpoints.value
    }
  }

  # Tags on every resource. moto workaround as well: moto's Athena
  # ListTagsForResource fails on an untagged workgroup.
  default_tags {
    tags = {
      project     = "gridflow"
      environment = var.environment
    }
  }
}
