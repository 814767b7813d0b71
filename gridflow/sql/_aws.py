"""AwsAthena: the athena/ SQL on Amazon Athena through boto3."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import boto3
from sqlglot import exp

from gridflow.sql._engine import Row, check_params
from gridflow.sql._files import load_sql, view_names
from gridflow.sql._values import from_athena

_logger = logging.getLogger(__name__)


class AthenaQueryError(RuntimeError):
    """An Athena query ended FAILED or CANCELLED, or did not finish in time."""

    def __init__(self, query_id: str, state: str, reason: str) -> None:
        super().__init__(f"Athena query {query_id} {state}: {reason}")
        self.query_id = query_id
        self.state = state
        self.reason = reason


class AwsAthena:
    """Runs the SQL files of athena/ on Athena, in a workgroup and a Glue database.

    The views of athena/views/ are created (CREATE OR REPLACE VIEW) before the first query of each
    database in the process. The workgroup gives the results location, unless output_location is set.
    """

    _views_created: ClassVar[set[str]] = set()
    _views_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        database: str,
        workgroup: str = "primary",
        *,
        output_location: str | None = None,
        client: Any | None = None,
        timeout_seconds: float = 300.0,
        first_poll_seconds: float = 0.2,
        max_poll_seconds: float = 5.0,
    ) -> None:
        self._database = database
        self._workgroup = workgroup
        self._output_location = output_location
        self._client = client or boto3.client("athena")
        self._timeout_seconds = timeout_seconds
        self._first_poll_seconds = first_poll_seconds
        self._max_poll_seconds = max_poll_seconds

    def run(self, sql_name: str, params: Sequence[object] = ()) -> list[Row]:
        """Rows of athena/<sql_name>.sql, one dict per row, with params bound to its `?` in order."""
        self._create_views()
        sql = load_sql(sql_name)
        check_params(sql_name, sql, params)
        return self.execute(sql, params)

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement and return its rows, typed by the result metadata."""
        query_id = self._start(sql, params)
        execution = self._wait(query_id)
        return self._rows(query_id, has_header=execution.get("StatementType") == "DML")

    def _create_views(self) -> None:
        with self._views_lock:
            if self._database in self._views_created:
                return
            for name in view_names():
                _logger.info("creating view %s in %s", name, self._database)
                self.execute(load_sql(name))
            self._views_created.add(self._database)

    def _start(self, sql: str, params: Sequence[object]) -> str:
        request: dict[str, Any] = {
            "QueryString": sql.strip().removesuffix(";"),
            "QueryExecutionContext": {"Database": self._database},
            "WorkGroup": self._workgroup,
        }
        if params:  # the API rejects an empty list
            request["ExecutionParameters"] = [athena_literal(value) for value in params]
        if self._output_location:
            request["ResultConfiguration"] = {"OutputLocation": self._output_location}
        return self._client.start_query_execution(**request)["QueryExecutionId"]

    def _wait(self, query_id: str) -> dict[str, Any]:
        """Poll GetQueryExecution, backing off exponentially, until the query has finished."""
        deadline = time.monotonic() + self._timeout_seconds
        delay = self._first_poll_seconds
        while True:
            execution = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution["Status"]
            if status["State"] == "SUCCEEDED":
                return execution
            if status["State"] in ("FAILED", "CANCELLED"):
                raise AthenaQueryError(query_id, status["State"], status.get("StateChangeReason", ""))
            if time.monotonic() + delay > deadline:
                self._client.stop_query_execution(QueryExecutionId=query_id)
                raise AthenaQueryError(query_id, "TIMED_OUT", f"not finished in {self._timeout_seconds}s")
            time.sleep(delay)
            delay = min(delay * 2, self._max_poll_seconds)

    def _rows(self, query_id: str, *, has_header: bool) -> list[Row]:
        """All pages of GetQueryResults; a SELECT's first row holds the column names and is skipped."""
        pages = self._client.get_paginator("get_query_results").paginate(
            QueryExecutionId=query_id, PaginationConfig={"PageSize": 1000}
        )
        columns: list[dict[str, Any]] = []
        cells: list[list[str | None]] = []
        for page in pages:
            columns = columns or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            cells.extend([cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"])
        return [
            {column["Name"]: from_athena(text, column["Type"]) for column, text in zip(columns, row)}
            for row in cells[1 if has_header else 0 :]
        ]


def athena_literal(value: object) -> str:
    """An execution parameter as Athena wants it: the SQL literal, e.g. 'it''s' for a string, 3 for an int."""
    return exp.convert(value).sql(dialect="athena")
