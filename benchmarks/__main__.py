"""`python -m benchmarks`: start each target, drive the four workloads at it, print the table.

Targets run one at a time, each in its own process, with the load generator in other processes
on loopback. See docs/benchmarks.md for what each number means.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from benchmarks.loadgen import LoadResult, LoadSpec, run_load
from benchmarks.report import results_table
from benchmarks.targets import HOST, Target, TargetFailed, start_baseline, start_segue
from benchmarks.workloads import WORKLOADS, Workload

STARTERS = {"baseline": start_baseline, "segue": start_segue}
console = Console()


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


def measure(target: Target, args: argparse.Namespace) -> dict[str, LoadResult]:
    """Every workload against one running target."""
    results = {}
    for workload in WORKLOADS:
        result = run_load(_spec(target, workload, args))
        console.log(f"{target.name}: {workload.title}: {_summary(result)}")
        results[workload.key] = result
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
        f"{result.errors} non-200"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, dict[str, LoadResult]] = {}
    with tempfile.TemporaryDirectory(prefix="segue-bench-") as work_dir:
        for name in args.targets:
            try:
                target = STARTERS[name](Path(work_dir))
            except (TargetFailed, OSError) as error:
                console.print(f"[red]{name} did not start:[/red] {error}")
                return 1
            try:
                results[name] = measure(target, args)
            finally:
                target.stop()
    console.print(results_table(results, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
