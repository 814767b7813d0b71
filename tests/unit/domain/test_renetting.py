"""Re-netting keeps the totals exact whatever order files are committed and retracted in.

The protocol of tasks/steps/netting.py, played out on the domain functions: committing a file writes its
contribution against the older committed files and works out again every newer committed file that
re-delivers one of its intervals; retracting a file drops its contribution and works those out again
without it. After every step the contributions must sum to the latest-delivery-wins totals of the
committed files, computed here independently with plain dicts and Decimal.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.reading_schema import parsed_schema
from tasks.domain.supersession import DELIVERY_COLUMNS, contribution, newer_redeliveries, older_deliveries

DAY = datetime(2024, 3, 1)
Totals = dict[tuple[str, str], tuple[Decimal, int]]


def _file(file_id: str, delivered: datetime, values: dict[tuple[str, int], str]) -> pa.Table:
    """A file's curated readings as Aggregate reads them back: {(meter, half-hour index): kWh} on two days."""
    rows = [{"meter_id": meter, "channel": "import", "interval_start": DAY + timedelta(minutes=30 * slot),
             "interval_minutes": 30, "kwh": Decimal(kwh), "quality": "A", "anomalies": None, "source_line": line,
             "file_id": file_id, "ingested_at": delivered,
             "reading_date": (DAY + timedelta(minutes=30 * slot)).date()}
            for line, ((meter, slot), kwh) in enumerate(sorted(values.items()), start=2)]
    table = pa.Table.from_pylist(rows, schema=parsed_schema())
    return table.select(DELIVERY_COLUMNS + ["reading_date"])


FILES = {
    "aaa": _file("aaa", datetime(2024, 3, 5, 8), {("m1", 0): "1.5", ("m1", 1): "2.25", ("m2", 47): "7",
                                                  ("m2", 48): "3"}),
    "bbb": _file("bbb", datetime(2024, 3, 5, 9), {("m1", 1): "3.125", ("m1", 2): "0.5", ("m2", 48): "4"}),
    "ccc": _file("ccc", datetime(2024, 3, 6, 7), {("m1", 1): "4", ("m2", 47): "6.000000001", ("m3", 3): "1"}),
    "ddd": _file("ddd", datetime(2024, 3, 6, 7), {("m1", 0): "0.001", ("m2", 48): "0"}),  # ties ccc: file id
}


def _delivered_at(rows: pa.Table) -> datetime:
    return rows["ingested_at"][0].as_py()


def _population(committed: set[str]) -> pa.Table:
    return pa.concat_tables([FILES[file_id] for file_id in sorted(committed)]) if committed else \
        FILES["aaa"].slice(0, 0)


def _items(file_id: str, committed: set[str]) -> Totals:
    """What the file's items hold, worked out against the other committed files."""
    rows = FILES[file_id]
    older = older_deliveries(_population(committed - {file_id}), _delivered_at(rows), file_id,
                             pc.unique(rows["meter_id"]))
    return {(row["meter_id"], row["day"]): (row["kwh"], row["readings"])
            for row in contribution(rows, older).to_pylist()}


def _renetted(file_id: str, others: set[str]) -> set[str]:
    """The committed files whose items change when this one comes or goes."""
    rows = FILES[file_id]
    newer = newer_redeliveries(_population(others), rows, _delivered_at(rows), file_id)
    return set(newer["file_id"].to_pylist())


def _commit(file_id: str, committed: set[str], items: dict[str, Totals]) -> None:
    others = set(committed)
    committed.add(file_id)
    items[file_id] = _items(file_id, committed)
    for newer in _renetted(file_id, others):
        items[newer] = _items(newer, committed)


def _retract(file_id: str, committed: set[str], items: dict[str, Totals]) -> None:
    committed.discard(file_id)
    items.pop(file_id, None)
    for newer in _renetted(file_id, committed):
        items[newer] = _items(newer, committed)


def _summed(items: dict[str, Totals]) -> Totals:
    out: dict[tuple[str, str], list] = {}
    for totals in items.values():
        for key, (kwh, count) in totals.items():
            entry = out.setdefault(key, [Decimal(0), 0])
            entry[0] += kwh
            entry[1] += count
    return {key: (kwh, count) for key, (kwh, count) in out.items() if count or kwh}


def _latest_wins(committed: set[str]) -> Totals:
    """Independent oracle: per interval the value of the latest delivery (time, then file id), summed per day."""
    latest: dict[tuple[str, datetime], tuple[tuple[datetime, str], Decimal, date]] = {}
    for file_id in committed:
        for row in FILES[file_id].to_pylist():
            key, order = (row["meter_id"], row["interval_start"]), (row["ingested_at"], row["file_id"])
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, row["kwh"], row["reading_date"])
    out: dict[tuple[str, str], list] = {}
    for (meter, _), (_, kwh, day) in latest.items():
        entry = out.setdefault((meter, day.isoformat()), [Decimal(0), 0])
        entry[0] += kwh
        entry[1] += 1
    return {key: (kwh, count) for key, (kwh, count) in out.items()}


def test_every_commit_order_gives_the_latest_delivery_totals() -> None:
    for order in itertools.permutations(FILES):
        committed: set[str] = set()
        items: dict[str, Totals] = {}
        for file_id in order:
            _commit(file_id, committed, items)
            assert _summed(items) == _latest_wins(committed), (order, file_id)


def test_retracting_any_file_in_any_order_keeps_the_totals_exact() -> None:
    for order in itertools.permutations(FILES):
        committed: set[str] = set()
        items: dict[str, Totals] = {}
        for file_id in FILES:
            _commit(file_id, committed, items)
        for file_id in order[:3]:
            _retract(file_id, committed, items)
            assert _summed(items) == _latest_wins(committed), (order, file_id)
        _commit(order[0], committed, items)  # loading a retracted file again
        assert _summed(items) == _latest_wins(committed)


def test_without_renetting_a_late_older_file_is_counted_twice() -> None:
    """The bug the re-netting fixes: a newer file committed first never learns of the older one."""
    items = {"bbb": _items("bbb", {"bbb"}), "aaa": _items("aaa", {"aaa", "bbb"})}
    assert _summed(items) != _latest_wins({"aaa", "bbb"})


def test_renetting_is_absolute_so_doing_it_twice_changes_nothing() -> None:
    committed: set[str] = set()
    items: dict[str, Totals] = {}
    for file_id in ("ccc", "aaa", "bbb"):
        _commit(file_id, committed, items)
    before = dict(items)
    _commit("aaa", committed, items)
    assert items == before
