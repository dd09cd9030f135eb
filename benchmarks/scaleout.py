"""`python -m benchmarks.scaleout`: ingest on NATS JetStream with one and with two ingest processes.

Both runs use `segue serve --role ingest` on a shared data dir (the config store) and a fresh
JetStream stream; the load generator splits its connections over the processes. The ratio of
the two is how ingest scales here (issue "Beyond one machine": two processes at least 1.6x
one). The closed-loop batch workload and the closed-loop single-request workload of
`python -m benchmarks` are measured, each with the connections doubled for two processes.

Next to each rate: the cores the ingest processes, the NATS server and the rest (the load
generator) kept busy over the measured seconds (benchmarks/cpu.py), and the "ceiling here":
the machine's cores over the cores one process's run kept busy, the most two processes can
give when each event costs the same CPU. Where the ceiling is under the floor, the machine
cannot show the floor whatever ingest does; ingest on cores of its own can.
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
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.cpu import CpuSampler
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


@dataclass
class Measured:
    """One workload's rate and the cores each part kept busy meanwhile."""

    events_per_second: float
    cores: dict[str, float]  # "ingest", "nats", "machine" (everything), in cores kept busy

    @property
    def others(self) -> float:
        """The load generator and the rest of the machine."""
        return max(0.0, self.cores["machine"] - self.cores["ingest"] - self.cores["nats"])


def measure(nodes: list[Target], args: argparse.Namespace) -> dict[str, Measured]:
    """Events/s of each closed-loop workload against these nodes (connections x node count), and
    where the CPU went while it was measured."""
    ingest_pids = {node.process.pid for node in nodes}
    groups = {"ingest": lambda pid, name: pid in ingest_pids, "nats": lambda pid, name: name == "nats-server"}
    results = {}
    for workload in (w for w in WORKLOADS if w.rate is None):
        spec = LoadSpec(HOST, nodes[0].port, nodes[0].write_key, workload.batch_size,
                        workload.connections * len(nodes), args.duration, args.warmup,
                        workers=len(nodes), ports=tuple(node.port for node in nodes))
        with CpuSampler(groups) as sampler:
            result = run_load(spec)
        measured = results[workload.title] = Measured(result.events_per_second, sampler.cores(*result.window))
        console.log(f"{len(nodes)} ingest process(es): {workload.title}: {measured.events_per_second:,.0f} events/s, "
                    f"cores busy: ingest {measured.cores['ingest']:.2f}, NATS {measured.cores['nats']:.2f}, "
                    f"rest {measured.others:.2f}")
    return results


def ceiling(one: Measured) -> float:
    """The most two processes can give over one here, when the work per event stays the same:
    the machine's cores over those one process's run kept busy (ingest, NATS, load generator),
    and at most 2."""
    busy = one.cores["machine"]
    return min(2.0, (os.cpu_count() or 1) / busy) if busy else 0.0


def run(args: argparse.Namespace) -> dict[int, dict[str, "Measured"]]:
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


def report(results: dict[int, dict[str, Measured]]) -> Table:
    """events/s with one and two processes, their ratio, the cores each part kept busy, and the
    ratio this machine's cores allow at most (`ceiling`)."""
    table = Table(title=f"Ingest on NATS JetStream: one and two `segue serve --role ingest` processes "
                        f"({os.cpu_count()} cores, shared with NATS and the load generator)",
                  caption="cores busy: ingest / NATS / load generator and the rest, over the measured seconds")
    for column in ("workload", "1 process", "cores busy", "2 processes", "cores busy", "2 / 1", "ceiling here",
                   f"floor {FLOOR_RATIO}x"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    for title, one in results[1].items():
        two = results[2][title]
        ratio = two.events_per_second / one.events_per_second if one.events_per_second else 0.0
        table.add_row(title, f"{one.events_per_second:,.0f}", _cores(one), f"{two.events_per_second:,.0f}", _cores(two),
                      f"{ratio:.2f}x", f"{ceiling(one):.2f}x", "met" if ratio >= FLOOR_RATIO else "not met")
    return table


def _cores(measured: Measured) -> str:
    return f"{measured.cores['ingest']:.2f} / {measured.cores['nats']:.2f} / {measured.others:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("--log-url", default="nats://127.0.0.1:4222", help="the NATS server (default local)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run (default 10)")
    args = parser.parse_args(argv)
    args.warmup = 1.0
    console.print(report(run(args)))


if __name__ == "__main__":
    main()
