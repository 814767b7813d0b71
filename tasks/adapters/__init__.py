"""AWS I/O for the pipeline steps: S3 objects, the lake, the DynamoDB tables, alerts."""
