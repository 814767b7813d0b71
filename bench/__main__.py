"""`python -m bench` (`make bench`): gridflow, the limit and the naive loader on the same synthetic files.

Sizes come from --sizes or BENCH_SIZES (comma-separated readings, default 100000,1000000,10000000). Each size
gets a fresh emulator and stack; results are rewritten after every size, so a stopped run keeps what it measured.
The naive loader loads files of up to BENCH_NAIVE_FULL readings in full, larger ones for BENCH_NAIVE_CAP seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import chart, figures, report, task_metrics
from bench.bench_tables import create_table
from bench.emulator_stack import bench_stack
from bench.gridflow_run import GridflowResult, execution_history, run_gridflow
from bench.limit_duckdb import run_limit, writer_client
from bench.memory_probe import probe_largest
from bench.naive_loader import run_naive
from bench.synthetic_csv import write_csv
from gridflow.stack import Stack

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_SIZES = "100000,1000000,10000000"
LIMIT_TABLE = "bench-limit-totals"
NAIVE_TABLE = "bench-naive-readings"


def _shard_meters(stack: Stack) -> int | None:
    """AGGREGATE_SHARD_METERS of the deployed Aggregate function (infra/ aggregate_shard_meters)."""
    config = stack.client("lambda").get_function_configuration(FunctionName=f"gridflow-{stack.environment}-aggregate")
    value = config.get("Environment", {}).get("Variables", {}).get("AGGREGATE_SHARD_METERS")
    return int(value) if value else None


def _gridflow_figures(result: GridflowResult, metrics_path: Path, readings: int) -> dict[str, Any]:
    invocations = task_metrics.read_invocations(metrics_path, result.execution)
    summaries = task_metrics.summarize(invocations)
    tasks = {name: summary.to_json() for name, summary in summaries.items()}
    calls = task_metrics.total_calls(summaries)
    items = task_metrics.written_items(invocations)
    dynamodb = task_metrics.operation_span(invocations, "aggregate", "dynamodb.BatchWriteItem")
    plan = (result.output.get("plan") or {}).get("value") or {}
    file = (result.output.get("file") or {}).get("value") or {}
    return {
        "status": result.status, "executions": result.executions, "wall_seconds": result.wall_seconds,
        "upload_seconds": result.upload_seconds,
        "state_seconds": result.state_seconds, "state_transitions": result.state_transitions,
        "parquet_bytes": result.parquet_bytes, "parquet_objects": result.parquet_objects,
        "chunks": plan.get("chunk_count"), "chunk_bytes": file.get("chunk_bytes"),
        "tasks": tasks, "calls": calls, "items": items,
        "dynamodb_items": items.get("dynamodb.BatchWriteItem", 0), "dynamodb_seconds": dynamodb,
        "shares": figures.wall_shares(result.wall_seconds, result.upload_seconds, result.state_seconds, dynamodb),
        "per_million": figures.per_million(readings, tasks, calls, items, result.state_transitions,
                                           result.parquet_bytes),
    }


def measure(readings: int, work: Path, naive_cap: float | None) -> dict[str, Any]:
    """Generate the file, then run gridflow, the limit and the naive loader on it, on one fresh stack."""
    csv_path = work / f"readings-{readings}.csv"
    expected = write_csv(csv_path, readings)
    load_before = os.getloadavg()[0]
    metrics_path = work / f"metrics-{readings}.jsonl"
    with bench_stack(work / f"stack-{readings}", metrics_path) as stack:
        print(f"[{readings}] gridflow ...", flush=True)
        result = run_gridflow(stack, csv_path)
        gridflow = _gridflow_figures(result, metrics_path, readings)
        gridflow["totals_match"] = figures.totals_match(expected.days, result.day_totals)
        gridflow["aggregate_shard_meters"] = _shard_meters(stack)
        gridflow["probe_peak_rss"] = probe_largest(stack, execution_history(stack, result.execution_arn))
        dynamodb = stack.client("dynamodb")
        print(f"[{readings}] limit ...", flush=True)
        limit = run_limit(csv_path, work / f"limit-{readings}", writer_client(stack.region, stack.endpoint),
                          create_table(dynamodb, LIMIT_TABLE))
        print(f"[{readings}] naive ...", flush=True)
        naive = run_naive(csv_path, dynamodb, create_table(dynamodb, NAIVE_TABLE), readings,
                          naive_cap if naive_cap is not None else float("inf"))
    csv_bytes = csv_path.stat().st_size
    csv_path.unlink()
    shutil.rmtree(work / f"limit-{readings}", ignore_errors=True)
    return {
        "readings": readings, "csv_bytes": csv_bytes, "meters": expected.meters, "meter_days": expected.meter_days,
        "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
        "gridflow": gridflow,
        "limit": {**{k: v for k, v in asdict(limit).items() if k != "day_totals"},
                  "totals_match": figures.totals_match(expected.days, limit.day_totals)},
        "naive": {**asdict(naive), "finished": naive.finished,
                  "projected_seconds": figures.extrapolated_seconds(naive.seconds, naive.rows_written, readings)},
    }


def write_outputs(results: dict[str, Any], out_dir: Path) -> None:
    """results.json, results.md and results.png (out_dir made if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(report.markdown(results))
    chart.write_png(results, out_dir / "results.png")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", DEFAULT_SIZES))
    parser.add_argument("--naive-full", type=int, default=int(os.environ.get("BENCH_NAIVE_FULL", "100000")),
                        help="the naive loader loads files up to this many readings in full")
    parser.add_argument("--naive-cap", type=float, default=float(os.environ.get("BENCH_NAIVE_CAP", "60")),
                        help="seconds the naive loader may run on larger files (then extrapolated)")
    parser.add_argument("--work", type=Path, default=BENCH_DIR.parent / ".gridflow" / "bench")
    parser.add_argument("--out", type=Path, default=BENCH_DIR)
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite results.md and results.png from the results.json in --out")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.report_only:
        write_outputs(json.loads((args.out / "results.json").read_text()), args.out)
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "cpus": os.cpu_count(), "sizes": []}
    for readings in sizes:
        results["sizes"].append(measure(readings, args.work, None if readings <= args.naive_full else args.naive_cap))
        write_outputs(results, args.out)
        print(f"[{readings}] done: {args.out / 'results.md'}", flush=True)


if __name__ == "__main__":
    main()
