"""gridflow: batch ETL for smart-meter data on AWS (Step Functions, Lambda, S3, Glue/Athena, DynamoDB)."""
