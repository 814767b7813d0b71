"""bench/results.md from the results dict that `python -m bench` builds."""

from __future__ import annotations

from typing import Any

from bench import figures

MB = 1_000_000
MEMORY_TARGET_BYTES = 512 * 1024 * 1024
RATIO_TARGET = 2.0
TARGET_SIZES = (1_000_000, 10_000_000)
METERS = 1_000_000
READINGS_A_MONTH = METERS * 48 * 30


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def naive_seconds(size: dict[str, Any]) -> float:
    """The naive loader's time for the whole file: measured, or extrapolated from the rows it reached."""
    naive = size["naive"]
    return naive["seconds"] if naive["finished"] else naive["projected_seconds"]


def peak_task_bytes(size: dict[str, Any]) -> int:
    """The largest peak RSS of a task invocation re-run alone (0 when none was probed)."""
    return max(size["gridflow"]["probe_peak_rss"].values(), default=0)


def _main_rows(sizes: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for size in sizes:
        n, grid, limit, naive = size["readings"], size["gridflow"], size["limit"], size["naive"]
        naive_mark = "" if naive["finished"] else f" (extrapolated from {naive['rows_written']:,} rows)"
        rows.append([
            f"{n:,}", _number(size["csv_bytes"] / MB), f"{grid['status']}",
            _number(grid["wall_seconds"]), f"{n / grid['wall_seconds']:,.0f}",
            _number(limit["seconds"]), f"{n / limit['seconds']:,.0f}",
            _number(figures.ratio(grid["wall_seconds"], limit["seconds"]), 2),
            _number(naive_seconds(size)) + naive_mark,
            _number(figures.ratio(naive_seconds(size), grid["wall_seconds"]), 1),
            _number(peak_task_bytes(size) / 2**20, 0),
            f"{grid['parquet_bytes'] / MB:,.1f} / {grid['parquet_objects']}",
            f"{limit['parquet_bytes'] / MB:,.1f} / {limit['parquet_objects']}",
            f"{grid['dynamodb_items']:,} / {limit['items']:,}",
            f"{'yes' if grid['totals_match'] else 'NO'} / {'yes' if limit['totals_match'] else 'NO'}",
        ])
    return rows


def _targets(sizes: list[dict[str, Any]]) -> list[list[str]]:
    by_n = {size["readings"]: size for size in sizes}
    rows = []
    for n in TARGET_SIZES:
        if n in by_n:
            value = figures.ratio(by_n[n]["gridflow"]["wall_seconds"], by_n[n]["limit"]["seconds"])
            rows.append([f"gridflow within {RATIO_TARGET:.0f}x of the limit at {n:,}", f"{value:.2f}x",
                         "met" if value is not None and value <= RATIO_TARGET else "NOT met"])
        else:
            rows.append([f"gridflow within {RATIO_TARGET:.0f}x of the limit at {n:,}", "not measured", "unknown"])
    largest = max(sizes, key=peak_task_bytes)
    peak = peak_task_bytes(largest)
    probed = sorted(largest["gridflow"]["probe_peak_rss"].items())
    probes = ", ".join(f"{task} {rss / 2**20:,.0f}" for task, rss in probed)
    rows.append(["task peak memory < 512 MiB (default chunk size, Lambda at 1 GB)",
                 f"{peak / 2**20:,.0f} MiB ({probes} MiB at {largest['readings']:,} readings)",
                 "met" if peak < MEMORY_TARGET_BYTES else "NOT met"])
    if all(n in by_n for n in TARGET_SIZES):
        small, large = (by_n[n] for n in TARGET_SIZES)
        exponent = figures.growth_exponent(small["readings"], small["gridflow"]["wall_seconds"],
                                           large["readings"], large["gridflow"]["wall_seconds"])
        rows.append(["time of 10^7 grows no faster than linearly from 10^6 (time ∝ n^k, k ≤ 1)",
                     f"k = {exponent:.2f}", "met" if exponent <= 1.0 else "NOT met"])
    else:
        rows.append(["time of 10^7 grows no faster than linearly from 10^6", "not measured", "unknown"])
    return rows


PROBE_ORDER = ("transform_chunk", "aggregate", "aggregate_totals", "aggregate_shard", "commit_feed_totals")


def _memory_rows(sizes: list[dict[str, Any]]) -> list[list[str]]:
    """Per probed task, the peak RSS (MiB) of its largest invocation re-run alone, per size."""
    tasks = {task for size in sizes for task in size["gridflow"]["probe_peak_rss"]}
    order = [task for task in PROBE_ORDER if task in tasks] + sorted(tasks - set(PROBE_ORDER))
    return [[task, *(_number(size["gridflow"]["probe_peak_rss"][task] / 2**20, 0)
                     if task in size["gridflow"]["probe_peak_rss"] else "not run" for size in sizes)]
            for task in order]


def _deployed(sizes: list[dict[str, Any]]) -> str:
    """The chunk size and aggregate shard size the stack was deployed with (from the run)."""
    chunk = next((size["gridflow"].get("chunk_bytes") for size in sizes if size["gridflow"].get("chunk_bytes")), None)
    shard = next((size["gridflow"].get("aggregate_shard_meters") for size in sizes
                  if size["gridflow"].get("aggregate_shard_meters")), None)
    parts = [f"chunk {chunk / 2**20:,.0f} MiB" if chunk else None,
             f"aggregate shards of {shard:,} meters" if shard else None, "Map concurrency 40"]
    return ", ".join(part for part in parts if part)


def _share_rows(sizes: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for part in figures.SHARE_PARTS:
        cells = []
        for size in sizes:
            seconds, wall = size["gridflow"]["shares"][part], size["gridflow"]["wall_seconds"]
            cells.append(f"{seconds:,.2f} s ({100 * seconds / wall:.0f}%)")
        rows.append([part, *cells])
    return rows


PER_MILLION_ROWS = (
    ("Lambda invocations", "lambda_invocations", 1),
    ("Lambda GB-seconds (1 GB functions)", "lambda_gb_seconds", 1),
    ("state transitions", "state_transitions", 1),
    ("DynamoDB daily-total items (BatchWriteItem)", "dynamodb_items", 0),
    ("DynamoDB write request units (all writes, items < 1 KB)", "dynamodb_wru", 0),
    ("S3 PUT/COPY/LIST requests", "s3_put_class", 1),
    ("S3 GET/HEAD requests", "s3_get_class", 1),
    ("Parquet MB (upper bound of an Athena full scan)", "parquet_bytes", 1),
)


def _per_million_rows(sizes: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for label, key, digits in PER_MILLION_ROWS:
        scale = MB if key == "parquet_bytes" else 1
        rows.append([label, *(_number(size["gridflow"]["per_million"][key] / scale, digits) for size in sizes)])
    tasks = sorted({task for size in sizes for task in size["gridflow"]["tasks"]})
    for task in tasks:
        rows.append([f"{task} Lambda seconds", *(_number(size["gridflow"]["per_million"].get(f"seconds_{task}"), 2)
                                                  for size in sizes)])
    rows.append(["transform_chunk mean seconds per chunk",
                 *(_number(size["gridflow"]["tasks"].get("transform_chunk", {}).get("seconds_mean"), 2)
                   + f" ({size['gridflow']['chunks']} × ≤{size['gridflow']['chunk_bytes'] / 2**20:.0f} MiB)"
                   for size in sizes)])
    return rows


def _cost_lines(size: dict[str, Any]) -> list[str]:
    costs = figures.cost_per_million(size["gridflow"]["per_million"])
    scale = READINGS_A_MONTH / 1_000_000
    rows = [[name, f"${cost:.4f}", f"${cost * scale:,.2f}"] for name, cost in costs.items()]
    rows.append(["total", f"${sum(costs.values()):.4f}", f"${sum(costs.values()) * scale:,.2f}"])
    return [f"From the {size['readings']:,}-reading run; us-east-1 list prices as published by AWS, checked 2026-11 "
            "(Lambda $0.0000166667 per GB-s and $0.20 per million requests, Step Functions Standard $0.025 per "
            "1,000 state transitions, DynamoDB on-demand $0.625 per million WRU, S3 $0.005 per 1,000 PUT/COPY/LIST "
            "and $0.0004 per 1,000 GET, Athena $5 per TB scanned). A month of 1 million meters at 48 reads a day "
            f"is {READINGS_A_MONTH / 1e9:.2f} billion readings. Athena is one full scan of the month's Parquet "
            "(a report reading fewer columns or days scans less).", "",
            *_table(["service", "per million readings", "a month, 1M meters × 48 a day"], rows)]


def markdown(results: dict[str, Any]) -> str:
    """The whole report."""
    sizes = results["sizes"]
    columns = [f"{size['readings']:,}" for size in sizes]
    loads = ", ".join(f"{size['load_average_before']:.1f}→{size['load_average_after']:.1f}" for size in sizes)
    lines = [
        "# gridflow benchmark", "",
        f"Run {results['started']} by `make bench` on {results['cpus']} CPU cores, 24 GiB. The machine was shared "
        f"with other engineers' tests, so it was not idle (1-minute load average before→after each size: {loads}). "
        "Every size ran on a fresh emulator (moto server and Step Functions interpreter in one process, the Lambdas "
        "in the emulator's Lambda runtime process) "
        f"deployed by `terraform apply` of infra/ with its defaults ({_deployed(sizes)}). "
        "Method and column meanings: docs/benchmark.md. Raw numbers: bench/results.json; chart: bench/results.png.",
        "",
        "## Wall time, throughput, outputs", "",
        *_table(["readings", "CSV MB", "status", "gridflow s", "gridflow readings/s", "limit s", "limit readings/s",
                 "gridflow / limit", "naive s", "naive / gridflow", "peak task MiB", "gridflow Parquet MB / objects",
                 "limit Parquet MB / objects", "DynamoDB items gridflow / limit", "totals exact gridflow / limit"],
                _main_rows(sizes)),
        "## Targets", "",
        *_table(["target", "measured", "result"], _targets(sizes)),
        "## Peak memory of one task invocation (MiB)", "",
        "The largest invocation of each task re-run alone in a fresh process (what Lambda reports as Max Memory "
        "Used): the widest chunk; Aggregate Totals (unsharded, or the planning call of the sharded path), the "
        "Aggregate Shard with the most meter-days, Commit Feed Totals. Target < 512 MiB.", "",
        *_table(["task", *columns], _memory_rows(sizes)),
        "## Share of gridflow's wall time", "",
        *_table(["part", *columns], _share_rows(sizes)),
        "## Per million readings (for the cost model)", "",
        "Lambda seconds are the durations in the emulator's Lambda runtime: chunks that ran at once shared its 2 cores "
        "(a Map of N chunks runs them together), and DynamoDB writes go at the emulator's speed; on AWS each "
        "chunk has its own Lambda, so these are upper bounds.", "",
        *_table(["per million readings", *columns], _per_million_rows(sizes)),
        "## Cost model", "",
        *_cost_lines(sizes[-1]),
    ]
    return "\n".join(lines)
