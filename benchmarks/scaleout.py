"""`python -m benchmarks.scaleout`: ingest on NATS JetStream with one and with two ingest processes.

Both runs use `segue serve --role ingest` on a shared data dir (the config store) and a fresh
JetStream stream; the load generator splits its connections over the processes. The ratio of
the two is how ingest scales here (issue "Beyond one machine": two processes at least 1.6x
one). The closed-loop batch workload and the closed-loop single-request workload of
`python -m benchmarks` are measured, each with the connections doubled for two processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.loadgen import LoadSpec, run_load
from benchmarks.targets import HOST, Target, _start, segue_command
from benchmarks.workloads import WORKLOADS
from segue.log.jetstream import JetStreamLog

FLOOR_RATIO = 1.6
console = Console(width=None if sys.stdout.isatty() else 110)


def start_ingest_nodes(count: int, work_dir: Path, log_url: str, stream: str) -> list[Target]:
    """`count` ingest-only servers on one data dir and one JetStream stream, sharing a source."""
    data_dir = work_dir / "segue-data"
    environ = {"SEGUE_LOG_URL": log_url, "SEGUE_LOG_STREAM": stream}
    created = subprocess.run(segue_command("sources", "create", "bench", "--type", "javascript", "--json",
                                           "--data-dir", str(data_dir)), check=True, capture_output=True, text=True)
    write_key = json.loads(created.stdout)["write_key"]
    command = segue_command("serve", "--host", HOST, "--port", "{port}", "--data-dir", str(data_dir), "--role", "ingest")
    return [_start(f"ingest-{n}", command, write_key, work_dir, environ) for n in range(count)]


def measure(nodes: list[Target], args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """(events/s, share of the machine's CPU busy) of each closed-loop workload against these
    nodes (connections x node count)."""
    results = {}
    for workload in (w for w in WORKLOADS if w.rate is None):
        spec = LoadSpec(HOST, nodes[0].port, nodes[0].write_key, workload.batch_size,
                        workload.connections * len(nodes), args.duration, args.warmup,
                        workers=len(nodes), ports=tuple(node.port for node in nodes))
        before = _cpu_times()
        rate = run_load(spec).events_per_second
        busy = _busy_share(before, _cpu_times())
        results[workload.title] = rate, busy
        console.log(f"{len(nodes)} ingest process(es): {workload.title}: {rate:,.0f} events/s, CPU {busy:.0%} busy")
    return results


def _cpu_times() -> tuple[int, int]:
    """(busy, total) clock ticks of all the machine's cores since boot (/proc/stat, Linux)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy the machine's cores were between two readings (0 to 1; 0 when unknown)."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def run(args: argparse.Namespace) -> dict[int, dict[str, tuple[float, float]]]:
    results = {}
    for count in (1, 2):
        stream = f"BENCH{uuid.uuid4().hex[:8].upper()}"
        with tempfile.TemporaryDirectory(prefix="segue-scaleout-") as work:
            nodes = start_ingest_nodes(count, Path(work), args.log_url, stream)
            try:
                results[count] = measure(nodes, args)
            finally:
                for node in nodes:
                    node.stop()
                asyncio.run(_delete_stream(args.log_url, stream))
    return results


async def _delete_stream(url: str, stream: str) -> None:
    log = JetStreamLog(url, stream=stream)
    await log.start()
    await log.delete_everything()
    await log.close()


def report(results: dict[int, dict[str, tuple[float, float]]]) -> Table:
    """events/s with one and two processes, their ratio, and how busy the machine's cores were
    (all of them busy with one process means a second one can only share them)."""
    table = Table(title=f"Ingest on NATS JetStream: one and two `segue serve --role ingest` processes "
                        f"({os.cpu_count()} cores, shared with NATS and the load generator)")
    for column in ("workload", "1 process", "CPU busy", "2 processes", "CPU busy", "2 / 1", f"floor {FLOOR_RATIO}x"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    for title, (one, busy_one) in results[1].items():
        two, busy_two = results[2][title]
        ratio = two / one if one else 0.0
        table.add_row(title, f"{one:,.0f}", f"{busy_one:.0%}", f"{two:,.0f}", f"{busy_two:.0%}", f"{ratio:.2f}x",
                      "met" if ratio >= FLOOR_RATIO else "not met")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("--log-url", default="nats://127.0.0.1:4222", help="the NATS server (default local)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run (default 10)")
    args = parser.parse_args(argv)
    args.warmup = 1.0
    console.print(report(run(args)))


if __name__ == "__main__":
    main()
