"""LocalAthena: the athena/ SQL on DuckDB, over the lake's Parquet objects in S3 or an S3 emulator."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from urllib.parse import urlsplit

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from sqlglot.schema import MappingSchema

from gridflow.sql._engine import Row, check_params
from gridflow.sql._files import load_sql, view_names
from gridflow.sql._schema import glue_table, partition_schema, table_schema
from gridflow.sql._translate import to_duckdb
from gridflow.sql._values import plain

_DATASET = "readings_dataset"


class LocalAthena:
    """Runs the SQL files of athena/ as Athena would, on DuckDB.

    `readings_objects` is a DuckDB view over a pyarrow dataset of s3://<bucket>/curated/readings/ (Hive partitions
    feed and reading_date, schema from glue/readings.json), so filters on the partitions skip objects the
    way Athena's partition projection does. The views of athena/views/ are created at construction.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        """endpoint_url: an S3 emulator such as a moto server; None for AWS S3. Keys default to AWS's chain."""
        self._filesystem = pafs.S3FileSystem(
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            endpoint_override=endpoint_url,
            scheme=urlsplit(endpoint_url).scheme if endpoint_url else "https",
        )
        self._base_dir = f"{bucket}/{glue_table()['location_prefix'].strip('/')}"
        self._con = duckdb.connect()
        self._register_dataset()
        self._con.execute(f"CREATE VIEW {glue_table()['table']} AS SELECT * FROM {_DATASET}")
        for name in view_names():
            for statement in to_duckdb(load_sql(name), self._catalog()):
                self._con.execute(statement)
        self._schema = self._catalog()

    def run(self, sql_name: str, params: Sequence[object] = ()) -> list[Row]:
        """Rows of athena/<sql_name>.sql, one dict per row, with params bound to its `?` in order."""
        sql = load_sql(sql_name)
        check_params(sql_name, sql, params)
        return self.execute(sql, params)

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one Athena SQL statement, translated to DuckDB, and return its rows."""
        (statement,) = to_duckdb(sql, self._schema)
        self._register_dataset()  # see the objects written since the last query
        cursor = self._con.execute(statement, list(params))
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, map(plain, row))) for row in cursor.fetchall()]

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> LocalAthena:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _register_dataset(self) -> None:
        """(Re)register the lake's objects as they are now; an empty or missing prefix gives no rows."""
        factory = ds.FileSystemDatasetFactory(
            self._filesystem,
            pafs.FileSelector(self._base_dir, recursive=True, allow_not_found=True),
            ds.ParquetFileFormat(),
            ds.FileSystemFactoryOptions(
                partition_base_dir=self._base_dir,
                partitioning=ds.partitioning(partition_schema(), flavor="hive"),
            ),
        )
        self._con.register(_DATASET, factory.finish(schema=table_schema()))

    def _catalog(self) -> MappingSchema:
        """The tables and views DuckDB knows, for sqlglot to resolve columns and their types."""
        rows = self._con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " ORDER BY table_name, ordinal_position"
        ).fetchall()
        tables: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            tables.setdefault(table, {})[column] = data_type
        return MappingSchema(tables, dialect="duckdb")
