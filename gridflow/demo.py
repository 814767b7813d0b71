"""`make demo`: a local stack deployed by Terraform, the sample files dropped in, results and the report printed."""

from __future__ import annotations

import time
from pathlib import Path

from gridflow import commands
from gridflow.cli import FILE_COLUMNS
from gridflow.emulator.process import EmulatorProcess
from gridflow.local_stack import LOCAL_DIR, deploy
from gridflow.sample_data import write_samples
from gridflow.stack import discover
from gridflow.table_output import print_rows

DEMO_MONTH = "2024-01"


def run(port: int | None = None) -> int:
    """Returns 0 when every sample file ends as expected (loaded, or quarantined for the broken one)."""
    LOCAL_DIR.mkdir(exist_ok=True)
    samples = write_samples(LOCAL_DIR / "samples")
    with EmulatorProcess(port=port, log_path=LOCAL_DIR / "demo-emulator.log") as emulator:
        started = time.monotonic()
        print(f"1. emulator on {emulator.endpoint}; terraform apply of infra/ ...", flush=True)
        outputs = deploy(emulator.endpoint, LOCAL_DIR / "demo-stack")
        print(f"   stack deployed in {time.monotonic() - started:.0f}s, bucket {outputs['data_bucket']}", flush=True)
        stack = discover(endpoint=emulator.endpoint)
        results = []
        for feed, paths in samples.items():
            print(f"2. dropping {', '.join(p.name for p in paths)} into s3://{stack.data_bucket}/inbound/{feed}/",
                  flush=True)
            results += commands.ingest(stack, paths, feed, wait=True)
        print("\nFiles:")
        print_rows(results, FILE_COLUMNS + ("error",), as_json=False)
        print(f"\nDaily totals, feed lcl_halfhourly, all meters, first days of {DEMO_MONTH}:")
        print_rows(commands.totals(stack, "lcl_halfhourly", None, f"{DEMO_MONTH}-01", f"{DEMO_MONTH}-05"),
                    ("meter_id", "date", "channel", "kwh", "readings", "files"), as_json=False)
        print(f"\nMonthly report {DEMO_MONTH} (athena/reports/monthly_consumption.sql on DuckDB):")
        report = commands.monthly_report(stack, DEMO_MONTH, None)
        print_rows(report, list(report[0]) if report else ["feed"], as_json=False)
        print(f"\ndemo finished in {time.monotonic() - started:.0f}s")
    expected = {name: "QUARANTINED" if "merge_conflict" in name else "LOADED"
                for paths in samples.values() for name in (Path(p).name for p in paths)}
    wrong = [r for r in results if r["status"] != expected[Path(r["key"]).name]]
    for row in wrong:
        print(f"unexpected: {row['key']} ended {row['status']} {row.get('error', '')}")
    return 1 if wrong else 0
