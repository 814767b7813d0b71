################################################################################
# Deployment
################################################################################

variable "environment" {
  description = "Deployment stage. Every resource name starts with gridflow-<environment>."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be one of dev, staging, prod."
  }
}

variable "region" {
  description = "AWS region to deploy to. The default layer ARNs below are for eu-west-1: change them with the region."
  type        = string
  default     = "eu-west-1"
}

variable "endpoint" {
  description = "Base URL that replaces every AWS service endpoint, e.g. http://127.0.0.1:5000 for the local emulator. Empty deploys to AWS."
  type        = string
  default     = ""

  validation {
    condition     = var.endpoint == "" || can(regex("^https?://", var.endpoint))
    error_message = "The endpoint must be empty or an http(s) URL."
  }
}

################################################################################
# Lambda
################################################################################

variable "lambda_zip" {
  description = "Path of the code bundle built by gridflow.lambda_bundle.build_bundle (one zip for all task functions)."
  type        = string
}

variable "pandas_layer_arn" {
  description = "AWS SDK for pandas managed layer (pandas, pyarrow) for python3.12 x86_64 in var.region. Empty for no layer."
  type        = string
  # Newest eu-west-1 Python 3.12 version found in published references; check
  # https://aws-sdk-pandas.readthedocs.io/en/stable/layers.html before a deploy.
  default = "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:20"
}

variable "powertools_layer_arn" {
  description = "Powertools for AWS Lambda (Python) v3 managed layer for python3.12 x86_64 in var.region. Empty for no layer."
  type        = string
  # Powertools publishes the same version number in every commercial region.
  default = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:37"
}

variable "chunk_bytes" {
  description = "Target size in bytes of one TransformChunk byte range (Validate cuts the file on line boundaries near this size)."
  type        = number
  default     = 67108864 # 64 MiB

  validation {
    condition     = var.chunk_bytes >= 1048576
    error_message = "The chunk_bytes must be at least 1 MiB."
  }
}

variable "max_file_bytes" {
  description = "Largest inbound file accepted, and largest a gzip file may expand to; bigger files are quarantined (too_large, decompressed_too_large)."
  type        = number
  # Validate reads the whole file in one invocation (timeout 300 s, ~100 MB/s
  # from S3, less when it also inflates gzip): 10 GiB leaves a margin.
  default = 10737418240 # 10 GiB

  validation {
    condition     = var.max_file_bytes > 0
    error_message = "The max_file_bytes must be positive."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda and Step Functions log groups, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports."
  }
}

################################################################################
# Orchestration and query
################################################################################

variable "map_concurrency" {
  description = "MaxConcurrency of the TransformChunk Map state (chunks of one file processed at once)."
  type        = number
  default     = 40

  validation {
    condition     = var.map_concurrency >= 1 && var.map_concurrency <= 10000
    error_message = "The map_concurrency must be between 1 and 10000."
  }
}

variable "athena_bytes_scanned_cutoff" {
  description = "Per-query data scan limit of the Athena workgroup, in bytes (minimum 10 MB)."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "The athena_bytes_scanned_cutoff must be at least 10485760 (10 MB)."
  }
}

################################################################################
# Alerts
################################################################################

variable "alert_email" {
  description = "Optional e-mail address subscribed to the alert topic (AWS sends a confirmation mail). Empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "The alert_email must be empty or an e-mail address."
  }
}
