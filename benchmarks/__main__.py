"""`python -m benchmarks`: start each target, drive the four workloads at it, print the table.

Each target runs in its own process, the load generator in others, all on loopback. The
targets take turns workload by workload, so that a busy neighbour on a shared machine weighs on
both sides of the segue/baseline ratio. See docs/benchmarks.md for what each number means.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from benchmarks.loadgen import LoadResult, LoadSpec, run_load
from benchmarks.report import results_table
from benchmarks.targets import HOST, Target, TargetFailed, start_baseline, start_segue
from benchmarks.workloads import WORKLOADS, Workload

STARTERS = {"baseline": start_baseline, "segue": start_segue}
console = Console(width=None if sys.stdout.isatty() else 110)  # wide enough for the table in a log


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s runs with a short warm-up, for a smoke test")
    parser.add_argument("--targets", default="segue,baseline", help="comma-separated: segue, baseline")
    parser.add_argument("--workers", type=int, default=1, help="load generator processes (default 1)")
    args = parser.parse_args(argv)
    args.targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = set(args.targets) - set(STARTERS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if args.quick:
        args.duration = min(args.duration, 3.0)
    args.warmup = 0.5 if args.quick else 1.0
    return args


def measure(targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, LoadResult]]:
    """Every workload against every target, interleaved so that both see the same machine load."""
    results: dict[str, dict[str, LoadResult]] = {target.name: {} for target in targets}
    for workload in WORKLOADS:
        for target in targets:
            result = run_load(_spec(target, workload, args))
            console.log(f"{target.name}: {workload.title}: {_summary(result)}")
            results[target.name][workload.key] = result
    return results


def _spec(target: Target, workload: Workload, args: argparse.Namespace) -> LoadSpec:
    return LoadSpec(
        host=HOST,
        port=target.port,
        write_key=target.write_key,
        batch_size=workload.batch_size,
        connections=workload.connections,
        duration=args.duration,
        warmup=args.warmup,
        rate=workload.rate,
        workers=args.workers,
    )


def _summary(result: LoadResult) -> str:
    return (
        f"{result.requests_per_second:,.0f} req/s, {result.events_per_second:,.0f} events/s, "
        f"p50 {result.latency(0.5) * 1000:.1f} ms, p99 {result.latency(0.99) * 1000:.1f} ms, "
        f"{result.errors} non-200 or unanswered"
    )


def start_targets(names: list[str], work_dir: Path) -> list[Target]:
    """Start every named target; if one fails, stop those already running and re-raise."""
    targets: list[Target] = []
    try:
        for name in names:
            targets.append(STARTERS[name](work_dir))
    except BaseException:
        stop_targets(targets)
        raise
    return targets


def stop_targets(targets: list[Target]) -> None:
    for target in targets:
        target.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="segue-bench-") as work_dir:
        try:
            targets = start_targets(args.targets, Path(work_dir))
        except (TargetFailed, OSError, subprocess.CalledProcessError) as error:
            console.print(f"[red]a target did not start:[/red] {error}")
            return 1
        try:
            results = measure(targets, args)
        finally:
            stop_targets(targets)
    console.print(results_table(results, args.duration, load_before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
