"""The `gridflow` command: drop files, watch runs, rerun, read totals and reports, run a local stack."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from gridflow import commands
from gridflow.table_output import print_rows


def _month(text: str) -> str:
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"month must be YYYY-MM, got {text!r}") from None
    return text


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"date must be YYYY-MM-DD, got {text!r}") from None


FILE_COLUMNS = ("file_id", "key", "status", "rows_loaded", "rows_rejected")


def _cmd_ingest(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    results = commands.ingest(stack, [Path(p) for p in args.paths], args.feed, wait=args.wait)
    print_rows(results, FILE_COLUMNS if args.wait else ("file_id", "key", "status"), args.json)
    return 0 if all(r["status"] in commands.OK_STATUSES for r in results) else 1


def _cmd_rerun(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    result = commands.rerun(stack, args.file_id, wait=args.wait)
    print_rows([result], FILE_COLUMNS, args.json)
    return 0 if result["status"] in commands.OK_STATUSES else 1


def _cmd_retract(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    result = commands.retract(stack, args.file_id, wait=args.wait)
    print_rows([result], ("file_id", "key", "status", "objects_deleted", "items_deleted", "renetted_files"), args.json)
    return 0 if result["status"] in ("RETRACTED", "STARTED") else 1


def _cmd_compact(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    result = commands.compact(stack, args.feed, getattr(args, "from"), args.to, wait=args.wait,
                              target_bytes=args.target_mb * 1024 * 1024)
    print_rows([result], ("feed", "status", "partitions", *commands.COMPACT_COUNTS), args.json)
    return 0 if result["status"] in ("SUCCEEDED", "STARTED") else 1


def _cmd_runs(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    rows = commands.runs(stack, status=args.status)
    print_rows(rows, ("execution", "execution_status", "started", "file_id", "key", "status", "rows_loaded",
                       "rows_rejected", "error"), args.json)
    return 0


def _cmd_totals(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    rows = commands.totals(stack, args.feed, args.meter, getattr(args, "from"), args.to)
    print_rows(rows, ("meter_id", "date", "channel", "kwh", "readings", "files"), args.json)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    stack = commands.connect(args)
    rows = commands.monthly_report(stack, args.month, args.feed)
    columns = list(rows[0]) if rows else ["feed", "meter_id", "month", "kwh"]
    print_rows(rows, columns, args.json)
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from gridflow import local_stack  # noqa: PLC0415 - only `up` and `demo` need Terraform

    local_stack.serve(port=args.port, environment=args.env)
    return 0


def _cmd_bundle(args: argparse.Namespace) -> int:
    from gridflow.lambda_bundle import build_bundle  # noqa: PLC0415
    from gridflow.local_stack import REPO_ROOT  # noqa: PLC0415

    print(build_bundle(REPO_ROOT, Path(args.out)))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gridflow import demo  # noqa: PLC0415

    return demo.run(port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridflow", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", help="local emulator URL (default: $GRIDFLOW_ENDPOINT, else real AWS)")
    common.add_argument("--env", default=None, help="stack environment name (default: $GRIDFLOW_ENV or dev)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", parents=[common], help="upload files to inbound/<feed>/")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--feed", required=True)
    ingest.add_argument("--wait", action="store_true", help="wait for the executions and print their results")
    ingest.set_defaults(run=_cmd_ingest)

    runs = sub.add_parser("runs", parents=[common], help="executions joined with their audit records")
    runs.add_argument("--status", help="SUCCEEDED, FAILED, RUNNING (execution) or LOADED, QUARANTINED... (file)")
    runs.set_defaults(run=_cmd_runs)

    rerun = sub.add_parser("rerun", parents=[common], help="start a new execution for a file")
    rerun.add_argument("file_id")
    rerun.add_argument("--wait", action="store_true")
    rerun.set_defaults(run=_cmd_rerun)

    retract = sub.add_parser("retract", parents=[common],
                             help="take a file's totals and lake rows back out (newer files re-netted)")
    retract.add_argument("file_id")
    retract.add_argument("--wait", action="store_true", help="wait for the retraction and print what it took out")
    retract.set_defaults(run=_cmd_retract)

    compact = sub.add_parser("compact", parents=[common],
                             help="merge the lake's small Parquet objects per day partition (what the schedule runs)")
    compact.add_argument("--feed", help="one feed (default: every feed)")
    compact.add_argument("--from", type=_day, default=None, help="first reading_date (default: the first)")
    compact.add_argument("--to", type=_day, default=None, help="last reading_date (default: the last)")
    compact.add_argument("--target-mb", type=int, default=128, help="size of a compacted object (default 128)")
    compact.add_argument("--wait", action="store_true", help="wait for the run and print what it merged")
    compact.set_defaults(run=_cmd_compact)

    totals = sub.add_parser("totals", parents=[common], help="daily totals from DynamoDB")
    totals.add_argument("--feed", required=True)
    totals.add_argument("--meter", help="one meter (default: the feed's total over all meters)")
    totals.add_argument("--from", type=_day, default="2000-01-01")
    totals.add_argument("--to", type=_day, default=None)
    totals.set_defaults(run=_cmd_totals)

    report = sub.add_parser("report", parents=[common], help="Athena reports (DuckDB locally)")
    report.add_argument("name", choices=["monthly"])
    report.add_argument("--month", type=_month, required=True)
    report.add_argument("--feed")
    report.set_defaults(run=_cmd_report)

    up = sub.add_parser("up", help="run a local stack until Ctrl-C")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--env", default="dev")
    up.set_defaults(run=_cmd_up)

    bundle = sub.add_parser("bundle", help="build the Lambda code zip for `terraform apply -var lambda_zip=...`")
    bundle.add_argument("out", help="where to write the zip")
    bundle.set_defaults(run=_cmd_bundle)

    demo = sub.add_parser("demo", help="local stack, sample files in, results and the monthly report out")
    demo.add_argument("--port", type=int, default=None)
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "totals" and args.to is None:
        args.to = (datetime.now(timezone.utc).date() + timedelta(days=1)).isoformat()
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one line for the user, the exit code for scripts
        print(f"gridflow {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
