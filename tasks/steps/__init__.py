"""One module per state of the ingest workflow: AWS I/O through adapters, logic in tasks.domain."""
