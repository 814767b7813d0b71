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
  # 24 MiB: a chunk's Lambda peaks at ~14 bytes of RSS per CSV byte (make bench,
  # docs/benchmark.md), so 24 MiB stays under 512 MiB and the functions run at 1 GB.
  default = 25165824 # 24 MiB

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

variable "distributed_map_threshold" {
  description = "A file with more chunks than this runs them in a Distributed Map (ItemReader over the chunk list in S3); smaller files in the inline Map."
  type        = number
  default     = 40

  validation {
    condition     = var.distributed_map_threshold >= 1
    error_message = "The distributed_map_threshold must be at least 1."
  }
}

variable "distributed_map_concurrency" {
  description = "MaxConcurrency of the Distributed Map (child executions, one Transform Chunk each, at once)."
  type        = number
  default     = 200

  validation {
    condition     = var.distributed_map_concurrency >= 1 && var.distributed_map_concurrency <= 10000
    error_message = "The distributed_map_concurrency must be between 1 and 10000."
  }
}

variable "aggregate_shard_meters" {
  description = "A file with more meters than this is aggregated in shards by a stable hash of the meter id (about this many meters a shard)."
  type        = number
  # 2,000 meters (60,000 meter-days a month): one aggregate invocation on 6,945
  # meters x 30 days peaked at 1.2 GB (make bench); a shard of 2,000 stays under 512 MiB.
  default = 2000

  validation {
    condition     = var.aggregate_shard_meters >= 1
    error_message = "The aggregate_shard_meters must be at least 1."
  }
}

variable "aggregate_shards" {
  description = "Most shards one file's aggregation is split into."
  type        = number
  # 500 x 2,000 meters: a million-meter file still gets shards of aggregate_shard_meters. Each shard is one
  # inline Map iteration (a handful of history events: 500 stay far under the 25,000-event limit).
  default = 500

  validation {
    condition     = var.aggregate_shards >= 1 && var.aggregate_shards <= 1000
    error_message = "The aggregate_shards must be between 1 and 1000."
  }
}

variable "aggregate_shard_concurrency" {
  description = "MaxConcurrency of the Aggregate Shards Map: shards writing DynamoDB items at once (each with totals_write_threads requests in flight)."
  type        = number
  default     = 4

  validation {
    condition     = var.aggregate_shard_concurrency >= 1 && var.aggregate_shard_concurrency <= 1000
    error_message = "The aggregate_shard_concurrency must be between 1 and 1000."
  }
}

variable "totals_write_threads" {
  description = "BatchWriteItem requests one function keeps in flight against the daily_totals table."
  type        = number
  default     = 8

  validation {
    condition     = var.totals_write_threads >= 1 && var.totals_write_threads <= 64
    error_message = "The totals_write_threads must be between 1 and 64."
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

################################################################################
# Compaction (infra/compaction.tf)
################################################################################

variable "compaction_schedule" {
  description = "EventBridge schedule expression of the nightly compaction run (UTC)."
  type        = string
  default     = "cron(30 2 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.compaction_schedule))
    error_message = "The compaction_schedule must be an EventBridge cron(...) or rate(...) expression."
  }
}

variable "compaction_target_bytes" {
  description = "Size a compacted Parquet object is packed up to, in bytes (sum of its inputs' sizes)."
  type        = number
  default     = 134217728 # 128 MiB

  validation {
    condition     = var.compaction_target_bytes >= 1048576 && var.compaction_target_bytes <= 1073741824
    error_message = "The compaction_target_bytes must be between 1 MiB and 1 GiB."
  }
}

variable "compaction_lookback_days" {
  description = "The scheduled run compacts the reading_date partitions of this many days before today (late files land in older days)."
  type        = number
  default     = 7

  validation {
    condition     = var.compaction_lookback_days >= 1 && var.compaction_lookback_days <= 3660
    error_message = "The compaction_lookback_days must be between 1 and 3660."
  }
}

variable "compaction_memory_mb" {
  description = "Memory of the compaction function: a merge holds its inputs' rows in Arrow, ~10x their zstd size."
  type        = number
  default     = 3008

  validation {
    condition     = var.compaction_memory_mb >= 1024 && var.compaction_memory_mb <= 10240
    error_message = "The compaction_memory_mb must be between 1024 and 10240."
  }
}

variable "compaction_schedule_enabled" {
  description = "Whether the nightly schedule starts the compaction."
  type        = bool
  default     = true
}
