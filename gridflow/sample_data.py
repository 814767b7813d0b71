"""Generates the demo's sample files (deterministic): `python -m gridflow.sample_data [DIR]`."""

from __future__ import annotations

import math
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
FIRST_DAY = date(2024, 1, 1)
DAYS = 60


def _half_hour_kwh(rng: random.Random, slot: int, base: float) -> float:
    """A household-shaped half-hour: low at night, peaks in the morning and evening."""
    hour = slot / 2
    shape = 0.6 + 0.5 * math.exp(-((hour - 8) ** 2) / 4) + 0.9 * math.exp(-((hour - 19) ** 2) / 6)
    return round(base * shape * rng.uniform(0.7, 1.3), 3)


def lcl_halfhourly(rng: random.Random) -> str:
    """Long CSV in the Low Carbon London shape, with two bad rows the pipeline must reject."""
    lines = ["LCLid,tstp,energy(kWh/hh)"]
    for meter in ("MAC900001", "MAC900002", "MAC900003", "MAC900004"):
        base = rng.uniform(0.12, 0.3)
        start = datetime.combine(FIRST_DAY, datetime.min.time())
        for step in range(DAYS * 48):
            stamp = start + timedelta(minutes=30 * step)
            lines.append(f"{meter},{stamp:%Y-%m-%d %H:%M:%S}, {_half_hour_kwh(rng, step % 48, base):.3f} ")
    lines[100] = lines[100].rsplit(",", 1)[0] + ",Null"
    lines[200] = lines[200].rsplit(",", 1)[0] + ", abc "
    return "\n".join(lines) + "\n"


def gentrack_wide(rng: random.Random) -> str:
    """Wide CSV in the Gentrack seed shape: one row per meter-day, 48 integer half-hour columns."""
    slots = [f"{slot // 2}:{'30' if slot % 2 else '00'}" for slot in range(48)]
    lines = [",".join(["Meter", "Date", *slots])]
    for meter in ("EM-1001", "EM-1002", "EM-1003"):
        for day in range(DAYS):
            values = [str(rng.randint(0, 3)) for _ in slots]
            lines.append(",".join([meter, (FIRST_DAY + timedelta(days=day)).isoformat(), *values]))
    return "\r\n".join(lines) + "\r\n"


def merge_conflict(rng: random.Random) -> str:
    """A file broken by an unresolved git merge: the pipeline must quarantine it, not load it twice."""
    body = lcl_halfhourly(rng).splitlines()[:50]
    return "\n".join(["<<<<<<< HEAD", *body, "=======", *body, ">>>>>>> branch"]) + "\n"


def write_samples(target: Path = SAMPLES_DIR) -> dict[str, list[Path]]:
    """Write every sample file under target/<feed>/; returns them by feed."""
    rng = random.Random(20240101)
    files = {
        "lcl_halfhourly": {"lcl_sample.csv": lcl_halfhourly(rng), "lcl_merge_conflict.csv": merge_conflict(rng)},
        "gentrack_wide": {"gentrack_sample.csv": gentrack_wide(rng)},
    }
    written: dict[str, list[Path]] = {}
    for feed, contents in files.items():
        (target / feed).mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = target / feed / name
            path.write_bytes(text.encode())
            written.setdefault(feed, []).append(path)
    return written


if __name__ == "__main__":
    for feed, paths in write_samples(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES_DIR).items():
        print(feed, *[str(p) for p in paths])
