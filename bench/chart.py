"""bench/results.png: wall time against size for gridflow, the limit and the naive loader (log-log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import naive_seconds


def write_png(results: dict[str, Any], path: Path) -> None:
    """Draw the chart; extrapolated naive times are hollow markers on a dashed line."""
    import matplotlib  # noqa: PLC0415 - a bench-only dependency (requirements-bench.txt)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    sizes = results["sizes"]
    readings = [size["readings"] for size in sizes]
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    axes.plot(readings, [s["gridflow"]["wall_seconds"] for s in sizes], "o-", label="gridflow (emulator, end to end)")
    axes.plot(readings, [s["limit"]["seconds"] for s in sizes], "s-", label="limit (DuckDB + BatchWriteItem)")
    axes.plot(readings, [naive_seconds(s) for s in sizes], "^--", color="tab:red", label="naive (PutItem a row)")
    measured = [(s["readings"], naive_seconds(s)) for s in sizes if s["naive"]["finished"]]
    projected = [(s["readings"], naive_seconds(s)) for s in sizes if not s["naive"]["finished"]]
    for points, face in ((measured, "tab:red"), (projected, "white")):
        if points:
            axes.scatter(*zip(*points), marker="^", s=60, facecolors=face, edgecolors="tab:red", zorder=3)
    if projected:
        axes.plot([], [], "^", color="white", markeredgecolor="tab:red", label="naive, extrapolated")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("readings in the file")
    axes.set_ylabel("wall time (s)")
    axes.set_title(f"gridflow benchmark, {results['started']}, {results['cpus']} cores")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
