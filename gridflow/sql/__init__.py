"""The Athena SQL of athena/, run on Amazon Athena (AwsAthena) or locally on DuckDB (LocalAthena)."""

from gridflow.sql._aws import AthenaQueryError, AwsAthena, athena_literal
from gridflow.sql._engine import Row, SqlEngine
from gridflow.sql._files import ATHENA_DIR, load_sql, view_names
from gridflow.sql._local import LocalAthena
from gridflow.sql._translate import to_duckdb
from gridflow.sql.reports import monthly_report

__all__ = [
    "ATHENA_DIR",
    "AthenaQueryError",
    "AwsAthena",
    "LocalAthena",
    "Row",
    "SqlEngine",
    "athena_literal",
    "load_sql",
    "monthly_report",
    "to_duckdb",
    "view_names",
]
