"""`python -m benchmarks.delivery`: cloud-mode delivery speed and end-to-end latency.

1. Throughput from the event log to a local destination (benchmarks/sink.py, its own
   process): a router with one webhook instance delivers N events already in a fresh SQLite
   log. Baseline in the same run: aiohttp posting the same N events straight to the sink with
   the same concurrency, the most a sender of single events could do on this machine.
2. End-to-end latency: `segue serve` with a webhook instance to the sink; events sent to the
   Tracking API at a steady rate (open loop); latency = arrival at the sink - send time.
Floors (issue "Cloud mode"): 10,000 events/s to a batching destination, 2,000 events/s to a
non-batching one; p99 under 1 s at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import base64
import gc
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx
import orjson
import uvloop
from rich.console import Console
from rich.table import Table

from benchmarks.targets import HOST, _start, segue_command, start_segue
from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.log import open_log
from segue.log.protocol import Entry
from segue.pipeline.router import Router, open_delivery_stores
from segue.store import Store

console = Console(width=None if sys.stdout.isatty() else 110)
APPEND_CHUNK = 500


def start_sink(work_dir: Path):
    return _start("sink", [sys.executable, "-m", "benchmarks.sink", "--host", HOST, "--port", "{port}"], "", work_dir)


async def sink_events(client: httpx.AsyncClient, sink_url: str) -> int:
    return (await client.get(f"{sink_url}/stats")).json()["events"]


async def wait_for_events(client: httpx.AsyncClient, sink_url: str, target: int, timeout: float = 120.0) -> float:
    """Seconds until the sink has counted `target` events."""
    started = time.perf_counter()
    while await sink_events(client, sink_url) < target:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the sink did not reach {target} events within {timeout:.0f} s")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


def bench_event(n: int) -> dict:
    return {"type": "track", "event": "Benchmark", "messageId": str(uuid.uuid4()), "userId": f"user-{n % 1000}",
            "timestamp": "2026-11-29T00:00:00.000Z", "properties": {"n": n, "plan": "pro", "revenue": 9.99}}


async def baseline_throughput(sink_url: str, events: int, concurrency: int) -> float:
    """events/s posting single events straight to the sink, `concurrency` at a time, with
    aiohttp (the client Segue's delivery uses) and nothing else in the way."""
    bodies = [orjson.dumps(bench_event(n)) for n in range(events)]
    async with httpx.AsyncClient(timeout=10) as client, aiohttp.ClientSession() as session:
        before = await sink_events(client, sink_url)
        queue = iter(bodies)
        started = time.perf_counter()

        async def post_all() -> None:
            for body in queue:
                async with session.post(f"{sink_url}/hook", data=body, headers={"Content-Type": "application/json"}) as answer:
                    await answer.read()

        await asyncio.gather(*(post_all() for _ in range(concurrency)))
        await wait_for_events(client, sink_url, before + events)
        return events / (time.perf_counter() - started)


async def router_throughput(sink_url: str, events: int, work_dir: Path, batching: bool, log_url: str = "",
                            database_url: str | None = None) -> float:
    """events/s from the event log (SQLite, or JetStream at `log_url`) through a router to the sink,
    with the config store, retry queue and statistics in the data dir or at `database_url`.

    The events are in the log before the timed part starts: a first router registers the
    instance's cursor and stops, the events are appended, and a second router delivers them.
    So the time is delivery's alone (in `segue serve` the log's writer runs in its own process).
    """
    name = ("batching" if batching else "single") + ("-nats" if log_url else "")
    settings = Settings.load(environ={}, data_dir=work_dir / name, log_writer_process=False, log_url=log_url,
                             database_url=database_url, allow_private_destinations=True,  # the sink is on 127.0.0.1
                             log_stream=f"BENCH{uuid.uuid4().hex[:8].upper()}")
    store = Store.open(settings)
    plane = ControlPlane(store)
    source = plane.create_source(OPERATOR, "bench", "python")
    plane.create_destination(OPERATOR, source=source["id"], slug="webhook", settings={"url": f"{sink_url}/hook", "enableBatching": batching}, enabled=True)
    event_log = open_log(settings)
    await event_log.start()
    retries, stats = open_delivery_stores(settings)
    first = Router(settings, store, event_log, plane.catalog, retries, stats)
    await first.start()  # registers the cursor at the head of the (empty) log
    await first.stop()
    await append_events(event_log, source["id"], events)
    router = Router(settings, store, event_log, plane.catalog, retries, stats)
    gc.freeze()  # as `segue serve` does once started (segue/server.py): long-lived objects leave the collector
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            before = await sink_events(client, sink_url)
            started = time.perf_counter()
            await router.start()
            await wait_for_events(client, sink_url, before + events)
            return events / (time.perf_counter() - started)
    finally:
        await router.stop()
        if log_url:
            await event_log.delete_everything()  # the benchmark's stream and cursors
        await event_log.close()
        await retries.close()
        await stats.close()
        store.close()


async def append_events(event_log, source_id: str, events: int) -> None:
    now_ms = int(time.time() * 1000)
    for first in range(0, events, APPEND_CHUNK):
        chunk = [bench_event(n) for n in range(first, min(first + APPEND_CHUNK, events))]
        await event_log.append([Entry(source_id, e["messageId"], e["userId"], now_ms, orjson.dumps(e)) for e in chunk])


async def end_to_end_latency(sink_url: str, rate: int, seconds: float, work_dir: Path) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, events) from the Tracking API to the sink, sending `rate` events/s."""
    target = start_segue(work_dir)
    try:
        data_dir = str(work_dir / "segue-data")
        import subprocess

        subprocess.run(segue_command("destinations", "create", "webhook", "--source", "bench", "--setting",
                                     f"url={sink_url}/hook", "--enable", "--data-dir", data_dir), check=True, capture_output=True)
        await asyncio.sleep(1.5)  # the running server picks up the destination within a second
        sent, errors = await send_steadily(f"http://{HOST}:{target.port}", target.write_key, rate, seconds)
        if errors:
            console.print(f"[red]{errors} calls failed[/red]; the server's log ends with:\n{target.log_tail()}")
        async with httpx.AsyncClient(timeout=30) as client:
            await wait_for_events(client, sink_url, sent, timeout=60)
            latencies = sorted((await client.get(f"{sink_url}/stats")).json()["latencies"])[-sent:]
        return _percentile(latencies, 0.50) * 1000, _percentile(latencies, 0.99) * 1000, sent
    finally:
        target.stop()


async def send_steadily(url: str, write_key: str, rate: int, seconds: float) -> tuple[int, int]:
    """Open loop: one track call every 1/rate s, whatever the answers' speed; returns the calls
    answered 200 and the calls that failed."""
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        tasks = []
        started = time.perf_counter()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            body = {"userId": f"user-{n % 1000}", "event": "Latency", "properties": {"sentAt": time.time(), "n": n}}
            tasks.append(asyncio.create_task(client.post(f"{url}/v1/track", json=body, headers={"Authorization": auth})))
        responses = await asyncio.gather(*tasks, return_exceptions=True)
    accepted = sum(1 for response in responses if isinstance(response, httpx.Response) and response.status_code == 200)
    return accepted, len(responses) - accepted


def _percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")


def report(rows: list[tuple[str, str, str, str]]) -> None:
    table = Table(title="Cloud-mode delivery")
    for column in ("measure", "segue", "baseline / floor", "verdict"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


async def run(args: argparse.Namespace, work_dir: Path) -> None:
    sink = start_sink(work_dir)
    sink_url = f"http://{HOST}:{sink.port}"
    try:
        baseline = await baseline_throughput(sink_url, args.events, concurrency=8)
        routed = await router_throughput(sink_url, args.events, work_dir, batching=False)
        batched = await router_throughput(sink_url, args.events * 5, work_dir, batching=True)
        on_nats = await nats_rounds(sink_url, args.events * 5, work_dir, args, batched) if args.nats else []
        p50, p99, sent = await end_to_end_latency(sink_url, args.rate, args.seconds, work_dir)
    finally:
        sink.stop()
    report([
        ("events/s to a batching destination (webhook, 1,000 per call)", f"{batched:,.0f}",
         f"ratio to single-event baseline {batched / baseline:.1f}; floor 10,000", _verdict(batched >= 10_000)),
        *_nats_rows(on_nats, args.nats, args.cluster_database_url),
        ("events/s to a non-batching destination", f"{routed:,.0f}",
         f"baseline {baseline:,.0f} (ratio {routed / baseline:.2f}); floor 2,000", _verdict(routed >= 2_000)),
        (f"end-to-end latency at {args.rate:,}/s ({sent:,} events)", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
         "floor: p99 < 1,000 ms", _verdict(p99 < 1_000)),
    ])


async def nats_rounds(sink_url: str, events: int, work_dir: Path, args: argparse.Namespace,
                      embedded: float) -> list[tuple[float, float]]:
    """(embedded, NATS) events/s to a batching destination, measured back to back
    `args.nats_rounds` times (the first embedded run is the one above). The machine is shared
    and NATS competes with the router and the sink for its two cores, so single runs move by
    a third; the verdict takes the median ratio."""
    pairs = []
    for round_number in range(args.nats_rounds):
        directory = work_dir / f"nats-round-{round_number}"
        if round_number:
            embedded = await router_throughput(sink_url, events, directory, True)
        with fresh_schema(args.cluster_database_url) as database_url:
            pairs.append((embedded, await router_throughput(sink_url, events, directory, True, args.nats, database_url)))
    return pairs


@contextlib.contextmanager
def fresh_schema(database_url: str):
    """`database_url` with a new, empty schema of its own as the search path (dropped on exit);
    None for no URL (the config store in the data dir)."""
    if not database_url:
        yield None
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _nats_rows(pairs: list[tuple[float, float]], url: str, database_url: str = "") -> list[tuple[str, str, str, str]]:
    """The same batching run with the event log on JetStream (issue "Beyond one machine")."""
    if not pairs:
        return [("events/s to a batching destination, log on NATS JetStream", "not run",
                 f"no NATS at {url or '--nats'}", "")]
    ratios = [on_nats / embedded for embedded, on_nats in pairs]
    ratio = statistics.median(ratios)
    on_nats = statistics.median(on_nats for _, on_nats in pairs)
    each = ", ".join(f"{value:.2f}" for value in ratios)
    where = "log on NATS JetStream" + (", config, retries and statistics on PostgreSQL" if database_url else "")
    return [(f"events/s to a batching destination, {where}", f"{on_nats:,.0f}",
             f"{ratio:.2f}x the embedded log's (median of {len(pairs)}: {each}); floor 0.70x", _verdict(ratio >= 0.7))]


def _nats_available(url: str) -> bool:
    host, _, port = url.removeprefix("nats://").partition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port or 4222)), timeout=0.5).close()
    except OSError:
        return False
    return True


def _verdict(ok: bool) -> str:
    return "[green]meets the floor[/green]" if ok else "[red]below the floor[/red]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events for the throughput runs (default 20,000)")
    parser.add_argument("--rate", type=int, default=1_000, help="events/s for the latency run (default 1,000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run (default 10 s)")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222",
                        help="NATS server for the run with the log on JetStream ('' skips it)")
    parser.add_argument("--cluster-database-url", default="",
                        help="PostgreSQL for the NATS runs' config store, retry queue and statistics, as a cluster "
                             "keeps them (default: SQLite in the data dir)")
    parser.add_argument("--nats-rounds", type=int, default=3,
                        help="embedded/NATS pairs of batching runs; the median ratio counts (default 3)")
    args = parser.parse_args(argv)
    if args.nats and not _nats_available(args.nats):
        console.print(f"no NATS server at {args.nats}: the JetStream run is skipped")
        args.nats = ""
    uvloop.install()  # the event loop `segue serve` runs on
    with tempfile.TemporaryDirectory(prefix="segue-bench-") as work:
        asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    main()
