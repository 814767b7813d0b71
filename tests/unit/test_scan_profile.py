"""The monthly report reads only its month's partitions: objects and bytes counted on the local engine
(gridflow/sql/scan_profile.py), over a lake of three months written the way Transform Chunk writes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pyarrow as pa
import pytest
from moto.server import ThreadedMotoServer

from gridflow.sql import LocalAthena
from gridflow.sql.scan_profile import profile
from tasks.adapters import lake_writer
from tasks.domain import lake_layout

BUCKET = "gridflow-scan"
REGION = "us-east-1"
FEED = "lcl_halfhourly"
METERS = 20
MONTHS = ("2031-04", "2031-05", "2031-06")


def _day(day: date, file_id: str) -> pa.Table:
    """A day of half-hour readings of METERS meters, as curated Parquet holds them."""
    starts = [datetime(day.year, day.month, day.day) + timedelta(minutes=30 * n) for n in range(48)]
    rows = [(f"MAC{meter:06d}", start, Decimal(meter * 48 + n) / 1000) for meter in range(METERS)
            for n, start in enumerate(starts)]
    count = len(rows)
    return pa.table({
        "meter_id": pa.array([r[0] for r in rows]), "channel": pa.array(["import"] * count),
        "interval_start": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
        "interval_minutes": pa.array([30] * count, pa.int32()), "day_intervals": pa.array([48] * count, pa.int32()),
        "kwh": pa.array([r[2] for r in rows], pa.decimal128(18, 9)), "quality": pa.array(["A"] * count),
        "anomalies": pa.nulls(count, pa.string()), "source_line": pa.array(range(2, count + 2), pa.int64()),
        "file_id": pa.array([file_id] * count),
        "ingested_at": pa.array([datetime(2031, 7, 1, tzinfo=timezone.utc)] * count, pa.timestamp("us", tz="UTC")),
    })


@pytest.fixture(scope="module")
def lake() -> Iterator[tuple[LocalAthena, dict[str, int]]]:
    """Three months, every day two objects (two files), written with the lake writer's Parquet settings.
    Yields the engine and the bytes of each month's objects."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": REGION}.items():
            env.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        sizes = dict.fromkeys(MONTHS, 0)
        day = date(2031, 4, 1)
        while day < date(2031, 7, 1):
            for file_id in ("aaaa", "bbbb"):
                body = lake_writer.parquet_bytes(_day(day, file_id), sorted_rows=True)
                s3.put_object(Bucket=BUCKET, Key=lake_layout.curated_key(FEED, day.isoformat(), file_id, 0), Body=body)
                sizes[day.isoformat()[:7]] += len(body)
            day += timedelta(days=1)
        with LocalAthena(BUCKET, endpoint, REGION, access_key="testing", secret_key="testing") as engine:
            yield engine, sizes
        server.stop()


def test_the_monthly_report_reads_only_its_months_objects(lake: tuple[LocalAthena, dict[str, int]]) -> None:
    engine, sizes = lake
    scan = profile(engine, "2031-05", FEED)
    assert scan.rows == METERS
    assert scan.objects == 2 * 31 and len(scan.partitions) == 31
    assert all("reading_date=2031-05-" in partition for partition in scan.partitions)
    assert 0 < scan.bytes_read < sum(sizes.values())  # footers are read twice: more than the month's bytes


def test_without_pruning_every_object_is_read_for_the_same_answer(lake: tuple[LocalAthena, dict[str, int]]) -> None:
    engine, sizes = lake
    pruned = profile(engine, "2031-05", FEED)
    full = profile(engine, "2031-05", FEED, pruning=False)
    assert full.rows == pruned.rows
    assert full.objects == 2 * (30 + 31 + 30) and len(full.partitions) == 91
    assert full.bytes_read > 2.5 * pruned.bytes_read
    print(f"\nmonthly report 2031-05: pruned {pruned.as_dict()}, unpruned {full.as_dict()}, "
          f"objects of the month {sizes['2031-05']} bytes, of the lake {sum(sizes.values())} bytes")
    assert profile(engine, "2031-05", FEED).as_dict() == pruned.as_dict(), "the engine is left as it was"
