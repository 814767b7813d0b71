"""`python -m bench.many_meters` (`make bench-meters`): a file of many meters through gridflow on the emulator.

The size benchmark (`make bench`) grows readings over a few thousand meters; a backfill of a whole network grows
meters, and meter-days are what the aggregation holds. This loads one file of --meters meters (default a million)
with --readings-per-meter half-hourly readings each, checks the totals against the generator's, and reports the
shards, the wall time, and the peak memory of the largest invocation of each task re-run alone (bench.memory_probe).
Writes bench/many-meters.json and bench/many-meters.md.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bench import figures
from bench.emulator_stack import bench_stack
from bench.gridflow_run import execution_history, run_gridflow
from bench.memory_probe import probe_largest
from bench.synthetic_csv import write_meters_csv

BENCH_DIR = Path(__file__).resolve().parent
MIB = 1024 * 1024


def measure(meters: int, readings_per_meter: int, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"meters-{meters}.csv"
    expected = write_meters_csv(csv_path, meters, readings_per_meter)
    metrics_path = work / f"metrics-meters-{meters}.jsonl"
    with bench_stack(work / f"stack-meters-{meters}", metrics_path) as stack:
        result = run_gridflow(stack, csv_path)
        events = execution_history(stack, result.execution_arn)
        entered = [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]
        peaks = probe_largest(stack, events)
    totals = (result.output.get("totals") or {}).get("value") or {}
    plan = (result.output.get("plan") or {}).get("value") or {}
    measured = {
        "meters": meters, "readings": expected.readings, "meter_days": expected.meter_days,
        "csv_bytes": csv_path.stat().st_size, "status": result.status, "wall_seconds": round(result.wall_seconds, 1),
        "chunks": plan.get("chunk_count"), "shards": entered.count("Aggregate Shard"),
        "meter_days_loaded": totals.get("meter_days"), "items_written": totals.get("items_written"),
        "totals_match": figures.totals_match(expected.days, result.day_totals),
        "state_seconds": result.state_seconds, "peak_rss_mib": {task: round(peak / MIB) for task, peak in peaks.items()},
        "load_average": os.getloadavg()[0],
    }
    csv_path.unlink()
    return measured


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def markdown(result: dict[str, Any]) -> str:
    peaks = result["peak_rss_mib"]
    rows = [
        ("meters", f"{result['meters']:,}"), ("readings", f"{result['readings']:,}"),
        ("meter-days", f"{result['meter_days']:,} (loaded: {_count(result['meter_days_loaded'])})"),
        ("file", f"{result['csv_bytes'] / MIB:.0f} MiB, {result['chunks']} chunks"),
        ("status, totals exact", f"{result['status']}, {result['totals_match']}"),
        ("wall time", f"{result['wall_seconds']} s"), ("Aggregate Shard invocations", str(result["shards"])),
        ("DynamoDB items written", _count(result["items_written"])),
        *((f"peak memory: {task}", f"{mib} MiB") for task, mib in peaks.items()),
    ]
    states = ", ".join(f"{name} {seconds} s" for name, seconds in result["state_seconds"].items())
    return "\n".join(["# Many meters: one file, one emulator", "", "| | |", "|---|---|",
                      *(f"| {name} | {value} |" for name, value in rows), "", f"States: {states}.", "",
                      f"Load average at the end: {result['load_average']:.1f}.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1_000_000)
    parser.add_argument("--readings-per-meter", type=int, default=4)
    parser.add_argument("--work", type=Path, default=BENCH_DIR.parent / ".gridflow" / "bench")
    parser.add_argument("--out", type=Path, default=BENCH_DIR)
    args = parser.parse_args()
    result = measure(args.meters, args.readings_per_meter, args.work)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "many-meters.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "many-meters.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
