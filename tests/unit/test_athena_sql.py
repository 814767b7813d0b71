"""The Athena SQL of athena/: parsed as Athena SQL, run locally on DuckDB over a moto S3 lake, AwsAthena stubbed."""

from __future__ import annotations

import json
import logging
import re
import string
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer
from sqlglot import exp
from sqlglot.schema import MappingSchema

from gridflow.sql import (
    ATHENA_DIR,
    AthenaQueryError,
    AwsAthena,
    LocalAthena,
    athena_literal,
    load_sql,
    monthly_report,
    to_duckdb,
)

REPO = Path(__file__).resolve().parents[2]
BUCKET = "gridflow-lake"
REGION = "us-east-1"
MONTH = "2024-03"

# A writer's own schema (not derived from glue/readings.json): timestamps in ms, as pandas or Spark may write them.
PARQUET_SCHEMA = pa.schema(
    [
        ("meter_id", pa.string()),
        ("channel", pa.string()),
        ("interval_start", pa.timestamp("ms")),
        ("interval_minutes", pa.int32()),
        ("day_intervals", pa.int32()),
        ("kwh", pa.decimal128(18, 9)),
        ("quality", pa.string()),
        ("anomalies", pa.string()),
        ("source_line", pa.int64()),
        ("file_id", pa.string()),
        ("ingested_at", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True)
class Reading:
    """One delivered reading: a row of one file in the lake."""

    feed: str
    reading_date: date
    meter_id: str
    channel: str
    interval_start: datetime
    kwh: Decimal
    file_id: str
    ingested_at: datetime
    anomalies: str | None = None
    source_line: int = 2
    interval_minutes: int = 30
    quality: str = "A"
    day_intervals: int = 48

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        return (self.feed, self.meter_id, self.channel, self.interval_start)


def _day(feed: str, meter: str, channel: str, day: str, file_id: str, ingested: str, *kwh: str,
         anomalies: tuple[str | None, ...] = ()) -> list[Reading]:
    """Half-hourly readings from 00:00 of day, one per kwh value."""
    start = datetime.fromisoformat(day)
    flags = anomalies or (None,) * len(kwh)
    return [
        Reading(feed, start.date(), meter, channel, start + timedelta(minutes=30 * i), Decimal(value), file_id,
                datetime.fromisoformat(ingested), flag, source_line=i + 2)
        for i, (value, flag) in enumerate(zip(kwh, flags))
    ]


READINGS: list[Reading] = [
    # alpha/M1/import: the month's edges and the days either side of it
    *_day("alpha", "M1", "import", "2024-02-29", "f1", "2024-04-02T01:00", "9.000001", "9.000002"),
    *_day("alpha", "M1", "import", "2024-03-01", "f1", "2024-04-02T01:00", "0.125", "0.250",
          anomalies=(None, "SPIKE")),
    *_day("alpha", "M1", "import", "2024-03-31", "f1", "2024-04-02T01:00", "1.5", "2.25"),
    *_day("alpha", "M1", "import", "2024-04-01", "f1", "2024-04-02T01:00", "7.000007"),
    # 2024-03-15 delivered by f1, then again (corrected) by f2, ingested later: f2 wins
    *_day("alpha", "M1", "import", "2024-03-15", "f1", "2024-04-02T01:00", "100", "100"),
    *_day("alpha", "M1", "import", "2024-03-15", "f2", "2024-04-03T08:00", "0.333333", "0.666667",
          anomalies=("ESTIMATED,SPIKE", None)),
    # 2024-03-20 delivered by two files ingested at the same instant: the greater file_id (f3b) wins
    *_day("alpha", "M1", "import", "2024-03-20", "f3b", "2024-04-05T00:00", "0.5"),
    *_day("alpha", "M1", "import", "2024-03-20", "f3a", "2024-04-05T00:00", "50"),
    *_day("alpha", "M1", "export", "2024-03-15", "f1", "2024-04-02T01:00", "0.010000", "0.020000"),
    *_day("alpha", "M2", "import", "2024-03-02", "f1", "2024-04-02T01:00", "3.3", "4.4", "5.5"),
    *_day("alpha", "M2", "import", "2023-12-31", "f0", "2024-01-02T00:00", "8.8"),
    *_day("beta", "B1", "import", "2024-03-10", "g1", "2024-04-02T01:00", "12.000001"),
    *_day("beta", "B1", "import", "2024-04-10", "g2", "2024-05-02T01:00", "13"),
]


def _parquet(rows: list[Reading]) -> bytes:
    """The rows as a Parquet file (feed and reading_date are in the object key, not in the file)."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist([asdict(row) for row in rows], schema=PARQUET_SCHEMA), sink)
    return sink.getvalue().to_pybytes()


def write_lake(s3, bucket: str, rows: list[Reading]) -> None:
    """One object per (file, partition), at the lake's layout."""
    def partition(row: Reading) -> tuple[str, date, str]:
        return (row.feed, row.reading_date, row.file_id)

    for (feed, day, file_id), group in groupby(sorted(rows, key=partition), key=partition):
        key = f"curated/readings/feed={feed}/reading_date={day.isoformat()}/{file_id}-0.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=_parquet(list(group)))


def expected_report(rows: list[Reading], month: str, feed: str | None) -> list[dict[str, object]]:
    """The monthly report computed in Python: latest delivery per reading, then sums per feed/meter/channel."""
    latest: dict[tuple[str, str, str, datetime], Reading] = {}
    for row in rows:
        kept = latest.get(row.key)
        if kept is None or (row.ingested_at, row.file_id) > (kept.ingested_at, kept.file_id):
            latest[row.key] = row
    chosen = sorted(
        (r for r in latest.values() if r.reading_date.isoformat()[:7] == month and feed in (None, r.feed)),
        key=lambda r: (r.feed, r.meter_id, r.channel),
    )
    report = []
    for (feed_, meter, channel), group in groupby(chosen, key=lambda r: (r.feed, r.meter_id, r.channel)):
        group = list(group)
        report.append({
            "feed": feed_, "meter_id": meter, "channel": channel, "month": month,
            "total_kwh": sum((r.kwh for r in group), Decimal(0)),
            "readings": len(group),
            "expected_readings": 48 * len({r.reading_date for r in group}),
            "coverage": round(len(group) / (48 * len({r.reading_date for r in group})), 4),
            "days_covered": len({r.reading_date for r in group}),
            "days_with_gaps": len({r.reading_date for r in group}),
            "anomalous_readings": sum(r.anomalies is not None for r in group),
            "first_interval_start": min(r.interval_start for r in group).isoformat(),
            "last_interval_start": max(r.interval_start for r in group).isoformat(),
        })
    return report


# --------------------------------------------------------------------------- fixtures


class _RequestLog(logging.Handler):
    """The moto server's request lines (werkzeug logs one per request)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def partitions_read(self) -> set[str]:
        """feed=/reading_date= folders whose objects were read with a GET."""
        return set(re.findall(r'GET /[^/ ]+/curated/readings/(feed=[^/]+/reading_date=[^/]+)/[^ ?]+\.parquet',
                              "\n".join(self.lines)))


@pytest.fixture(scope="module")
def request_log() -> Iterator[_RequestLog]:
    handler = _RequestLog()
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.addHandler(handler)
    werkzeug.setLevel(logging.INFO)
    yield handler
    werkzeug.removeHandler(handler)
    werkzeug.setLevel(level)


@pytest.fixture(scope="module")
def endpoint_url(request_log: _RequestLog) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture(scope="module")
def s3(endpoint_url: str):
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION)


@pytest.fixture(scope="module")
def lake(s3, endpoint_url: str) -> Iterator[LocalAthena]:
    s3.create_bucket(Bucket=BUCKET)
    write_lake(s3, BUCKET, READINGS)
    with LocalAthena(BUCKET, endpoint_url, REGION) as engine:
        yield engine


# --------------------------------------------------------------------------- the SQL files


def _sql_files() -> list[Path]:
    return sorted(ATHENA_DIR.rglob("*.sql"))


def _rendered(path: Path) -> str:
    """The file with the DDL's ${...} placeholders filled in, as a user would before running it."""
    return string.Template(path.read_text()).substitute(database="gridflow", bucket=BUCKET, feeds="alpha,beta")


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: str(p.relative_to(ATHENA_DIR)))
def test_sql_file_parses_as_athena_sql(path: Path) -> None:
    statements = [s for s in sqlglot.parse(_rendered(path), read="athena") if s]
    assert len(statements) == 1


def test_athena_dir_holds_the_ddl_view_and_report() -> None:
    names = {str(p.relative_to(ATHENA_DIR)) for p in _sql_files()}
    assert {"ddl/readings_objects.sql", "views/readings.sql", "views/readings_latest.sql",
            "reports/monthly_consumption.sql"} <= names


def test_ddl_columns_match_the_glue_schema() -> None:
    glue = json.loads((REPO / "glue" / "readings.json").read_text())
    ddl = sqlglot.parse_one(_rendered(ATHENA_DIR / "ddl" / "readings_objects.sql"), read="athena")

    def columns(defs) -> list[tuple[str, str]]:
        return [(c.name, c.args["kind"].sql("hive")) for c in defs]

    assert ddl.this.this.name == glue["table"]

    def glue_columns(defs) -> list[tuple[str, str]]:
        return [(c["name"], exp.DataType.build(c["type"], dialect="hive").sql("hive")) for c in defs]

    assert columns(ddl.this.expressions) == glue_columns(glue["columns"])
    assert columns(ddl.find(exp.PartitionedByProperty).this.expressions) == glue_columns(glue["partition_keys"])
    assert ddl.find(exp.LocationProperty).text("this") == f"s3://{BUCKET}/{glue['location_prefix']}"


def test_load_sql_refuses_paths_outside_athena() -> None:
    with pytest.raises(FileNotFoundError):
        load_sql("../glue/readings")


def test_translation_keeps_trino_types() -> None:
    """Date arithmetic on a DATE stays a DATE, integer division stays integer (DuckDB alone gives TIMESTAMP, 3.5)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE readings AS SELECT DATE '2024-03-15' AS reading_date, "
                "TIMESTAMP '2024-03-15 10:30:00' AS interval_start, 45::INTEGER AS interval_minutes")
    schema = MappingSchema(
        {"readings": {"reading_date": "DATE", "interval_start": "TIMESTAMP", "interval_minutes": "INTEGER"}},
        dialect="duckdb",
    )
    (sql,) = to_duckdb(
        "SELECT date_trunc('month', reading_date) AS m, date_add('day', -1, date_trunc('month', reading_date)) AS d,"
        " date_add('hour', 1, interval_start) AS h, interval_minutes / 30 AS n FROM readings",
        schema,
    )
    assert con.execute(sql).fetchone() == (date(2024, 3, 1), date(2024, 2, 29), datetime(2024, 3, 15, 11, 30), 1)


# --------------------------------------------------------------------------- LocalAthena on the moto lake


def test_view_keeps_the_latest_delivery(lake: LocalAthena) -> None:
    rows = lake.execute(
        "SELECT interval_start, file_id, kwh, anomalies FROM readings_latest"
        " WHERE feed = 'alpha' AND meter_id = 'M1' AND channel = 'import' AND reading_date = date('2024-03-15')"
        " ORDER BY interval_start"
    )
    assert rows == [
        {"interval_start": "2024-03-15T00:00:00", "file_id": "f2", "kwh": Decimal("0.333333"),
         "anomalies": "ESTIMATED,SPIKE"},
        {"interval_start": "2024-03-15T00:30:00", "file_id": "f2", "kwh": Decimal("0.666667"), "anomalies": None},
    ]


def test_view_breaks_an_ingested_at_tie_by_the_greater_file_id(lake: LocalAthena) -> None:
    rows = lake.execute("SELECT file_id, kwh FROM readings_latest WHERE reading_date = date(?)", ["2024-03-20"])
    assert rows == [{"file_id": "f3b", "kwh": Decimal("0.5")}]


def test_view_has_one_row_per_reading(lake: LocalAthena) -> None:
    (row,) = lake.execute("SELECT count(*) AS n FROM readings_latest")
    assert row["n"] == len({r.key for r in READINGS})


def test_readings_shows_a_row_stored_twice_during_a_compaction_swap_once(s3, endpoint_url: str) -> None:
    """A merged object and one of its inputs stored at the same time: identical rows in two objects."""
    bucket = "gridflow-lake-swap"
    s3.create_bucket(Bucket=bucket)
    write_lake(s3, bucket, READINGS)
    day = [row for row in READINGS if row.feed == "alpha" and row.reading_date == date(2024, 3, 15)]
    s3.put_object(Bucket=bucket, Key="curated/readings/feed=alpha/reading_date=2024-03-15/compacted-0123.parquet",
                  Body=_parquet(day))
    repeat = replace(day[0], source_line=99)  # the same interval again on another line of the file: kept
    s3.put_object(Bucket=bucket, Key="curated/readings/feed=alpha/reading_date=2024-03-15/f1-1.parquet",
                  Body=_parquet([repeat]))
    with LocalAthena(bucket, endpoint_url, REGION) as engine:
        (stored,) = engine.execute("SELECT count(*) AS n FROM readings_objects")
        (shown,) = engine.execute("SELECT count(*) AS n FROM readings")
        lines = engine.execute("SELECT file_id, source_line FROM readings WHERE reading_date = date('2024-03-15')"
                               " AND channel = 'import' ORDER BY file_id, source_line")
        (latest,) = engine.execute("SELECT count(*) AS n FROM readings_latest")
    assert stored["n"] == len(READINGS) + len(day) + 1
    assert shown["n"] == len(READINGS) + 1
    assert lines == [{"file_id": "f1", "source_line": 2}, {"file_id": "f1", "source_line": 3},
                     {"file_id": "f1", "source_line": 99}, {"file_id": "f2", "source_line": 2},
                     {"file_id": "f2", "source_line": 3}]
    assert latest["n"] == len({r.key for r in READINGS})


def test_monthly_report_equals_totals_computed_independently(lake: LocalAthena) -> None:
    report = monthly_report(lake, MONTH, feed=None)
    assert report == expected_report(READINGS, MONTH, None)
    assert {(r["feed"], r["meter_id"], r["channel"]) for r in report} == {
        ("alpha", "M1", "export"), ("alpha", "M1", "import"), ("alpha", "M2", "import"), ("beta", "B1", "import")}


def test_monthly_report_values_and_types(lake: LocalAthena) -> None:
    (m1,) = [r for r in monthly_report(lake, MONTH, "alpha") if (r["meter_id"], r["channel"]) == ("M1", "import")]
    assert m1 == {
        "feed": "alpha", "meter_id": "M1", "channel": "import", "month": "2024-03",
        # 03-01 + 03-15 (f2, not f1's 200) + 03-20 (f3b) + 03-31; not 02-29 nor 04-01
        "total_kwh": Decimal("0.125") + Decimal("0.250") + Decimal("1.000000") + Decimal("0.5") + Decimal("3.75"),
        "readings": 7, "days_covered": 4, "anomalous_readings": 2,
        "expected_readings": 4 * 48, "coverage": round(7 / 192, 4), "days_with_gaps": 4,
        "first_interval_start": "2024-03-01T00:00:00", "last_interval_start": "2024-03-31T00:30:00",
    }
    assert type(m1["total_kwh"]) is Decimal and type(m1["readings"]) is int


def test_monthly_report_respects_month_boundaries(lake: LocalAthena) -> None:
    february = monthly_report(lake, "2024-02", "alpha")
    april = monthly_report(lake, "2024-04", "alpha")
    assert [(r["total_kwh"], r["first_interval_start"], r["last_interval_start"]) for r in february] == [
        (Decimal("18.000003"), "2024-02-29T00:00:00", "2024-02-29T00:30:00")]
    assert [(r["total_kwh"], r["first_interval_start"]) for r in april] == [
        (Decimal("7.000007"), "2024-04-01T00:00:00")]
    assert february == expected_report(READINGS, "2024-02", "alpha")
    assert april == expected_report(READINGS, "2024-04", "alpha")


@pytest.mark.parametrize("feed", ["alpha", "beta", "no_such_feed"])
def test_monthly_report_feed_filter(lake: LocalAthena, feed: str) -> None:
    report = monthly_report(lake, MONTH, feed)
    assert {r["feed"] for r in report} <= {feed}
    assert report == expected_report(READINGS, MONTH, feed)


def test_monthly_report_reads_only_the_months_partitions(lake: LocalAthena, request_log: _RequestLog) -> None:
    request_log.lines.clear()
    lake.execute("SELECT count(*) AS n FROM readings_latest")
    every_partition = request_log.partitions_read()
    assert len(every_partition) == 10  # the check below can fail: an unfiltered query reads them all

    request_log.lines.clear()
    monthly_report(lake, MONTH, "alpha")
    assert request_log.partitions_read() == {
        f"feed=alpha/reading_date={day}"
        for day in ("2024-03-01", "2024-03-02", "2024-03-15", "2024-03-20", "2024-03-31")
    }

    request_log.lines.clear()
    monthly_report(lake, MONTH, None)
    assert request_log.partitions_read() == {p for p in every_partition if "reading_date=2024-03-" in p}


def test_objects_written_after_construction_are_seen(s3, lake: LocalAthena) -> None:
    later = _day("gamma", "G1", "import", "2024-03-05", "h1", "2024-04-02T01:00", "2.5")
    write_lake(s3, BUCKET, later)
    try:
        assert monthly_report(lake, MONTH, "gamma") == expected_report(later, MONTH, "gamma")
    finally:
        s3.delete_object(Bucket=BUCKET, Key="curated/readings/feed=gamma/reading_date=2024-03-05/h1-0.parquet")


def test_empty_lake_returns_no_rows(s3, endpoint_url: str) -> None:
    s3.create_bucket(Bucket="empty-lake")
    with LocalAthena("empty-lake", endpoint_url, REGION) as engine:
        assert monthly_report(engine, MONTH, None) == []
        assert engine.execute("SELECT * FROM readings_latest") == []


@pytest.mark.parametrize("month", ["2024-3", "2024-13", "2024-00", "202403", "2024-03-01", " 2024-03", "", None])
def test_monthly_report_rejects_a_bad_month(month: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        monthly_report(object(), month, None)  # type: ignore[arg-type]  # fails before the engine is used


def test_run_checks_the_parameter_count(lake: LocalAthena) -> None:
    with pytest.raises(ValueError, match="takes 4 parameters, got 2"):
        lake.run("reports/monthly_consumption", [MONTH, MONTH])


# --------------------------------------------------------------------------- AwsAthena, stubbed


@pytest.mark.parametrize(("value", "literal"), [("2024-03", "'2024-03'"), ("it's", "'it''s'"), ("", "''"),
                                                (3, "3"), (Decimal("1.50"), "1.50"), (None, "NULL")])
def test_athena_literal(value: object, literal: str) -> None:
    assert athena_literal(value) == literal


def _column(name: str, type_: str) -> dict[str, object]:
    return {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name, "Type": type_,
            "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}


def _page(columns: list[dict[str, object]], rows: list[list[str | None]], next_token: str | None = None):
    page: dict[str, object] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows],
            "ResultSetMetadata": {"ColumnInfo": columns},
        },
    }
    if next_token:
        page["NextToken"] = next_token
    return page


def _stub_query(stub: Stubber, query_id: str, expected_start: dict[str, object], statement_type: str,
                pages: list[dict[str, object]], states: tuple[str, ...] = ("SUCCEEDED",)) -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": query_id}, expected_start)
    for state in states:
        stub.add_response("get_query_execution", {"QueryExecution": {
            "QueryExecutionId": query_id, "StatementType": statement_type, "Status": {"State": state}}},
            {"QueryExecutionId": query_id})
    token = None
    for page in pages:
        expected = {"QueryExecutionId": query_id, "MaxResults": 1000, **({"NextToken": token} if token else {})}
        stub.add_response("get_query_results", page, expected)
        token = page.get("NextToken")


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(AwsAthena, "_views_created", set())
    client = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_aws_athena_creates_the_views_once_then_runs_the_report_and_types_the_rows(athena) -> None:
    client, stub = athena
    context = {"QueryExecutionContext": {"Database": "gridflow"}, "WorkGroup": "gridflow"}
    for number, view in enumerate(("readings", "readings_latest"), start=1):
        _stub_query(stub, f"view-{number}", {"QueryString": load_sql(f"views/{view}").strip(), **context}, "DDL",
                    [_page([], [])])
    columns = [_column(n, t) for n, t in [
        ("feed", "varchar"), ("meter_id", "varchar"), ("channel", "varchar"), ("month", "varchar"),
        ("total_kwh", "decimal"), ("readings", "bigint"), ("days_covered", "bigint"),
        ("anomalous_readings", "bigint"), ("first_interval_start", "timestamp"), ("last_interval_start", "timestamp")]]
    header = [c["Name"] for c in columns]
    report_start = {"QueryString": load_sql("reports/monthly_consumption").strip(), **context,
                    "ExecutionParameters": ["'2024-03'", "'2024-03'", "'alpha'", "'alpha'"]}
    for query_id in ("report-1", "report-2"):
        _stub_query(stub, query_id, report_start, "DML", [
            _page(columns, [header, ["alpha", "M1", "import", "2024-03", "5.625000", "7", "4", "2",
                                     "2024-03-01 00:00:00.000", "2024-03-31 00:30:00.000"]], next_token="t1"),
            _page(columns, [["alpha", "M2", "import", "2024-03", "13.200000", "3", "1", "0",
                             "2024-03-02 00:00:00.000", "2024-03-02 01:00:00.000"]]),
        ], states=("QUEUED", "RUNNING", "SUCCEEDED"))
    engine = AwsAthena("gridflow", "gridflow", client=client, first_poll_seconds=0)

    first = monthly_report(engine, MONTH, "alpha")
    assert monthly_report(engine, MONTH, "alpha") == first  # views not created again: the stub would fail
    assert first == [
        {"feed": "alpha", "meter_id": "M1", "channel": "import", "month": "2024-03", "total_kwh": Decimal("5.625"),
         "readings": 7, "days_covered": 4, "anomalous_readings": 2,
         "first_interval_start": "2024-03-01T00:00:00", "last_interval_start": "2024-03-31T00:30:00"},
        {"feed": "alpha", "meter_id": "M2", "channel": "import", "month": "2024-03", "total_kwh": Decimal("13.2"),
         "readings": 3, "days_covered": 1, "anomalous_readings": 0,
         "first_interval_start": "2024-03-02T00:00:00", "last_interval_start": "2024-03-02T01:00:00"},
    ]


def test_aws_athena_types_nulls_dates_and_doubles(athena) -> None:
    client, stub = athena
    columns = [_column("d", "date"), _column("x", "double"), _column("b", "boolean"), _column("n", "integer")]
    _stub_query(stub, "q", {"QueryString": "SELECT 1", "QueryExecutionContext": {"Database": "db"},
                            "WorkGroup": "primary"},
                "DML", [_page(columns, [["d", "x", "b", "n"], ["2024-03-01", "1.5E0", "true", None]])])
    engine = AwsAthena("db", client=client, first_poll_seconds=0)
    assert engine.execute("SELECT 1;") == [{"d": "2024-03-01", "x": 1.5, "b": True, "n": None}]


def test_aws_athena_raises_when_the_query_fails(athena) -> None:
    client, stub = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": "bad"})
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "bad", "Status": {
        "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: line 1:15: Table 'db.nope' does not exist"}}})
    with pytest.raises(AthenaQueryError, match="TABLE_NOT_FOUND") as raised:
        AwsAthena("db", client=client, first_poll_seconds=0).execute("SELECT * FROM nope")
    assert (raised.value.query_id, raised.value.state) == ("bad", "FAILED")
