"""Data-quality rules that look at readings together: duplicates within a file and spikes per meter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INTERVAL_KEY = ["meter_id", "channel", "interval_start"]


@dataclass(frozen=True)
class Duplicate:
    """A reading whose meter, channel and interval an earlier line already gave."""

    index: int  # position among the candidates
    rule: str  # duplicate (same value: dropped) or conflicting_duplicate (other value: rejected)
    reason: str


def duplicates(keys: pa.Table, kwh: pa.Array, lines: pa.Array) -> list[Duplicate]:
    """Every repeat after the first of an interval key; keys holds INTERVAL_KEY, one row per candidate.

    The first line wins; a later line with the same value is dropped, one with another value is rejected, and
    either way the reason names the line and value it repeats.
    """
    if keys.num_rows < 2:
        return []
    indexed = keys.append_column("index", pa.array(np.arange(keys.num_rows), pa.int64()))
    counts = indexed.group_by(INTERVAL_KEY, use_threads=False).aggregate([("index", "count")])
    repeated = counts.filter(pc.greater(counts["index_count"], 1))
    if repeated.num_rows == 0:
        return []
    rows = indexed.join(repeated.select(INTERVAL_KEY), INTERVAL_KEY, join_type="inner")["index"].to_pylist()
    first_of: dict[tuple[object, ...], int] = {}
    found = []
    for index in sorted(rows, key=lambda i: (lines[i].as_py(), i)):
        key = tuple(keys[name][index].as_py() for name in INTERVAL_KEY)
        first = first_of.setdefault(key, index)
        if first == index:
            continue
        kept, value = kwh[first].as_py(), kwh[index].as_py()
        where = f"line {lines[first].as_py()}"
        if kept == value:
            found.append(Duplicate(index, "duplicate", f"same meter, channel and interval as {where}, "
                                                       f"same value {_text(value)} kWh: dropped"))
        else:
            found.append(Duplicate(index, "conflicting_duplicate",
                                   f"same meter, channel and interval as {where}, which gave {_text(kept)} kWh; "
                                   f"this line gives {_text(value)} kWh"))
    return found


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def spikes(meters: pa.Array, channels: pa.Array, kwh: pa.Array, factor: Decimal) -> pa.Array:
    """True for a reading above factor times the median of its meter and channel (medians of 0 flag nothing)."""
    if len(kwh) == 0:
        return pa.array([], pa.bool_())
    values = pc.cast(kwh, pa.float64()).to_numpy(zero_copy_only=False)
    groups = pc.binary_join_element_wise(meters, channels, "\x1f").to_numpy(zero_copy_only=False)
    names, group_of = np.unique(groups, return_inverse=True)
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(len(names) + 1))
    medians = np.array([np.median(values[order[bounds[g]:bounds[g + 1]]]) for g in range(len(names))])
    median = medians[group_of]
    return pa.array((median > 0) & (values > float(factor) * median), pa.bool_())
