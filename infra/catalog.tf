################################################################################
# Glue catalog: the `readings_objects` table over curated/ (schema from
# glue/readings.json, which the Python code reads too)
#
# Partition projection: Athena computes the partitions from the feed list and
# the date range, so there is no crawler and no MSCK REPAIR / AddPartition.
################################################################################

resource "aws_glue_catalog_database" "this" {
  name        = replace(local.prefix, "-", "_")
  description = "gridflow ${var.environment} data lake"
}

resource "aws_glue_catalog_table" "readings" {
  database_name = aws_glue_catalog_database.this.name
  name          = local.glue_schema.table
  description   = local.glue_schema.description
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL       = "TRUE"
    classification = "parquet"

    "projection.enabled"                    = "true"
    "projection.feed.type"                  = "enum"
    "projection.feed.values"                = join(",", local.feed_names)
    "projection.reading_date.type"          = "date"
    "projection.reading_date.format"        = "yyyy-MM-dd"
    "projection.reading_date.range"         = "2000-01-01,NOW"
    "projection.reading_date.interval"      = "1"
    "projection.reading_date.interval.unit" = "DAYS"
    "storage.location.template"             = "s3://${aws_s3_bucket.data.bucket}/${local.glue_schema.location_prefix}feed=$${feed}/reading_date=$${reading_date}/"
  }

  dynamic "partition_keys" {
    for_each = local.glue_schema.partition_keys

    content {
      name    = partition_keys.value.name
      type    = partition_keys.value.type
      comment = try(partition_keys.value.comment, null)
    }
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.data.bucket}/${local.glue_schema.location_prefix}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = local.glue_schema.columns

      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = try(columns.value.comment, null)
      }
    }
  }

  lifecycle {
    precondition {
      condition     = [for k in local.glue_schema.partition_keys : k.name] == ["feed", "reading_date"]
      error_message = "The partition projection here expects glue/readings.json partition_keys feed, reading_date (in that order)."
    }
    precondition {
      condition     = endswith(local.glue_schema.location_prefix, "/")
      error_message = "The location_prefix in glue/readings.json must end with a slash."
    }
  }
}

# A warning, not an error: Athena rejects an empty enum, but the stack itself
# deploys and loads nothing until a feed spec exists.
check "feeds_declared" {
  assert {
    condition     = length(local.feed_names) > 0
    error_message = "No feeds/*.json found: the readings table's feed projection is empty and Athena queries on it will fail."
  }
}

################################################################################
# Athena workgroup
################################################################################

resource "aws_athena_workgroup" "this" {
  name          = local.prefix
  description   = "gridflow ${var.environment} queries over the readings lake"
  force_destroy = true # also removes saved queries and history on destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${aws_s3_bucket.data.bucket}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.data.arn
      }
    }
  }
}
