"""`python -m benchmarks.warehouse`: warehouse loading speed, Segue next to dlt, same events, same run.

Events: enriched Segment messages as the event log stores them (JSON bytes): mixed methods
(70% track over 20 event names, then identify, page, screen, group, alias), nested properties,
context and traits, about 1% repeated messageIds. Measured: from the stored bytes to committed,
deduplicated rows (`segue.warehouses.loader.load` in batches of `--batch` events, each event
decoded as `load` reads it, as a sync streams the log). Rows are the
rows committed over all tables (a track writes `tracks` and its event table).
Segue runs twice: batches staged while the one before loads, as a sync does (`segue`, the
measure the floor applies to), and one `load` after the other (the ratio shows the pipelining).
`--stages` adds where the time goes: CPU seconds per 100,000 events of each step of a load
(decoding, layout, typing, writing the stage, the engine's load), one batch after another.
Peer: dlt loading the same events with `write_disposition="merge"` on messageId (its dedup), one
table per method, into the same engine. Floors (issue "Warehouses"): 100,000 rows/s into
DuckDB, 40,000 rows/s into PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from segue.warehouses import loader as warehouse_loader
from segue.warehouses.engines import open_engine
from segue.warehouses.loader import LoadOptions, load
from segue.warehouses.pipeline import PipelinedLoader

EVENT_NAMES = tuple(f"{verb} {thing}" for verb in ("Product", "Cart", "Order", "Video") for thing in
                    ("Viewed", "Added", "Removed", "Completed", "Shared"))
METHODS = ("track",) * 14 + ("identify", "identify", "page", "screen", "group", "alias")
FLOORS = {"duckdb": 100_000, "postgres": 40_000}
PG = {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres"}
console = Console(width=None if sys.stdout.isatty() else 110)


def make_event(rng: random.Random, n: int) -> dict:
    """One enriched message of a random method."""
    method = rng.choice(METHODS)
    user = f"user-{rng.randrange(5000):05d}"
    event = {
        "type": method, "messageId": f"msg-{n:09d}", "userId": user, "anonymousId": f"anon-{user}",
        "receivedAt": "2026-11-29T06:00:01.250Z", "sentAt": "2026-11-29T06:00:01.000Z",
        "timestamp": "2026-11-29T06:00:00.750Z", "originalTimestamp": "2026-11-29T06:00:00.500Z",
        "context": {"library": {"name": "analytics.js", "version": "next-1.70.0"}, "locale": "en-US",
                    "page": {"path": "/shop", "url": "https://shop.example/shop", "title": "Shop"},
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"},
        "integrations": {}, "version": 2,
    }
    return {**event, **_method_fields(rng, method, n)}


def _method_fields(rng: random.Random, method: str, n: int) -> dict:
    properties = {"product": {"sku": f"sku-{rng.randrange(10**5)}", "price": round(rng.uniform(5, 300), 2),
                              "tags": ["a", "b"]}, "quantity": rng.randrange(1, 5), "currency": "USD"}
    if method == "track":
        return {"event": rng.choice(EVENT_NAMES), "properties": properties}
    if method in ("page", "screen"):
        return {"name": "Shop", "properties": properties}
    if method == "group":
        return {"groupId": f"grp-{n % 300}", "traits": {"name": "Acme", "employees": rng.randrange(500)}}
    if method == "alias":
        return {"previousId": f"anon-{n}"}
    return {"traits": {"email": f"u{n}@example.com", "plan": rng.choice(("free", "pro")),
                       "address": {"city": "Lyon", "country": "FR"}, "logins": rng.randrange(100)}}


def stored_events(count: int, seed: int = 7) -> list[bytes]:
    """The events as the log stores them, with ~1% repeated messageIds."""
    rng = random.Random(seed)
    events = [make_event(rng, n) for n in range(count)]
    for n in range(0, count, 100):
        events[n] = {**events[n], "messageId": events[max(0, n - 1)]["messageId"]}
    return [orjson.dumps(event) for event in events]


def segue_rate(engine_slug: str, stored: list[bytes], batch: int, work_dir: Path,
               pipelined: bool = True) -> tuple[float, float, int]:
    """(rows/s, events/s, rows committed) for Segue from stored bytes to committed rows: batches
    staged while the one before loads, as a sync runs (`PipelinedLoader`), or one `load` after
    the other (`pipelined=False`)."""
    engine = _engine(engine_slug, work_dir)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    options = LoadOptions(staging_dir=work_dir / f"stage-{engine_slug}")
    try:
        started = time.perf_counter()
        batches = ((orjson.loads(raw) for raw in stored[first:first + batch])  # decoded as staged
                   for first in range(0, len(stored), batch))
        if pipelined:
            loader = PipelinedLoader(engine, options)
            for events in batches:
                loader.submit({schema: events})
            loader.finish()
        else:
            for events in batches:
                load(engine, schema, events, options)
        elapsed = time.perf_counter() - started
        committed = _count_rows(engine, schema)
        return committed / elapsed, len(stored) / elapsed, committed
    finally:
        engine.drop_schema(schema)
        engine.close()


# The loader's steps, by the module attribute `stage` and `load` call them through.
STAGES = {"layout": "collect", "typing": "evolve", "writing the stage": "_write", "engine load": "load_staged"}


def stage_costs(engine_slug: str, stored: list[bytes], batch: int, work_dir: Path) -> dict[str, float]:
    """CPU seconds (process time: every thread, the engine's too) per 100,000 events of each step
    of `load`, one batch after another; "decoding" is `orjson.loads` of the stored bytes."""
    engine = _engine(engine_slug, work_dir)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    options = LoadOptions(staging_dir=work_dir / f"stage-costs-{engine_slug}")
    costs = dict.fromkeys(["decoding", *STAGES], 0.0)
    try:
        with _timed_steps(costs):
            for first in range(0, len(stored), batch):
                started = time.process_time()
                with warehouse_loader.collector_paused():  # as in a load, which decodes as it lays out
                    events = [orjson.loads(raw) for raw in stored[first:first + batch]]
                costs["decoding"] += time.process_time() - started
                load(engine, schema, events, options)
    finally:
        engine.drop_schema(schema)
        engine.close()
    return {step: seconds * 100_000 / len(stored) for step, seconds in costs.items()}


@contextlib.contextmanager
def _timed_steps(costs: dict[str, float]):
    """Count the CPU time of each loader step in `costs` while inside; the steps are restored after."""
    originals = {step: getattr(warehouse_loader, name) for step, name in STAGES.items()}

    def timed(step: str, function):
        def run(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                costs[step] += time.process_time() - started
        return run

    try:
        for step, function in originals.items():
            setattr(warehouse_loader, STAGES[step], timed(step, function))
        yield
    finally:
        for step, function in originals.items():
            setattr(warehouse_loader, STAGES[step], function)


def costs_table(costs: dict[str, dict[str, float]], events: int) -> Table:
    table = Table(title=f"Where the time goes: CPU seconds per 100,000 events ({events:,} loaded, one batch after another)")
    table.add_column("step")
    for engine in costs:
        table.add_column(engine, justify="right")
    for step in next(iter(costs.values())):
        table.add_row(step, *(f"{by_step[step]:.2f}" for by_step in costs.values()))
    python = [sum(seconds for step, seconds in by_step.items() if step != "engine load") for by_step in costs.values()]
    table.add_row("Python, staging (all but the engine load)", *(f"{seconds:.2f}" for seconds in python))
    table.add_row("total", *(f"{sum(by_step.values()):.2f}" for by_step in costs.values()))
    return table


def _engine(slug: str, work_dir: Path):
    if slug == "duckdb":
        return open_engine("duckdb", path=work_dir / "segue.duckdb")
    return open_engine("postgres", **PG)


def _count_rows(engine, schema: str) -> int:
    cursor = engine.conn.cursor()
    total = 0
    for table in engine.tables(schema):
        cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
        total += cursor.fetchone()[0]
    return total


def dlt_rate(engine_slug: str, stored: list[bytes], batch: int, work_dir: Path) -> tuple[float, float, int] | None:
    """(rows/s, events/s, rows) for dlt merging the same events on messageId, or None without dlt."""
    try:
        import dlt
    except ImportError:
        return None
    destination = dlt.destinations.duckdb(str(work_dir / "dlt.duckdb")) if engine_slug == "duckdb" else \
        dlt.destinations.postgres(f"postgresql://{PG['user']}:trust@{PG['host']}:{PG['port']}/{PG['database']}")
    dataset = f"dlt_{uuid.uuid4().hex[:8]}"
    pipeline = dlt.pipeline(pipeline_name=dataset, destination=destination, dataset_name=dataset,
                            pipelines_dir=str(work_dir / "dlt-pipelines"))

    @dlt.resource(table_name=lambda event: event["type"], write_disposition="merge", primary_key="messageId")
    def events(raw: list[bytes]):
        yield from (orjson.loads(item) for item in raw)

    started = time.perf_counter()
    for first in range(0, len(stored), batch):
        pipeline.run(events(stored[first:first + batch]))
    elapsed = time.perf_counter() - started
    with pipeline.sql_client() as client:
        rows = sum(client.execute_sql(f"SELECT count(*) FROM {client.make_qualified_table_name(table)}")[0][0]
                   for table in ("track", "identify", "page", "screen", "group", "alias"))
        client.drop_dataset()
        client.execute_sql(f'DROP SCHEMA IF EXISTS "{dataset}_staging" CASCADE')  # dlt's merge staging
    return rows / elapsed, len(stored) / elapsed, rows


def results_table(results: dict, events: int, load_average: float) -> Table:
    table = Table(
        title=f"Warehouse loading, {events:,} events per Segue run, stored bytes -> committed deduplicated rows",
        caption=f"{os.cpu_count()} CPUs, load average {load_average:.2f} before the run, {os.getloadavg()[0]:.2f} after",
    )
    for column in ("engine", "loader", "rows", "rows/s", "events/s", "segue/dlt", "floor"):
        table.add_column(column, justify="left" if column in ("engine", "loader") else "right")
    for engine, by_loader in results.items():
        for loader, (rows_per_s, events_per_s, rows) in by_loader.items():
            ratio = _ratio(by_loader) if loader == "segue" else ""
            floor = FLOORS[engine] if loader == "segue" else None
            verdict = "" if floor is None else f"≥ {floor:,} {'ok' if rows_per_s >= floor else 'MISSED'}"
            table.add_row(engine, loader, f"{rows:,}", f"{rows_per_s:,.0f}", f"{events_per_s:,.0f}", ratio, verdict)
    return table


def _ratio(by_loader: dict) -> str:
    if "dlt" not in by_loader:
        return "n/a"
    return f"{by_loader['segue'][1] / by_loader['dlt'][1]:,.1f}x events/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per Segue run (default 100,000)")
    parser.add_argument("--dlt-events", type=int, default=20_000, help="events per dlt run (default 20,000)")
    parser.add_argument("--batch", type=int, default=25_000, help="events per load (default 25,000)")
    parser.add_argument("--engines", default="duckdb,postgres", help="comma-separated: duckdb, postgres")
    parser.add_argument("--stages", action="store_true", help="also print CPU seconds per step of a load")
    args = parser.parse_args(argv)
    load_average = os.getloadavg()[0]
    stored = stored_events(max(args.events, args.dlt_events))
    results: dict[str, dict] = {}
    costs: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="segue-wh-bench-") as work:
        for engine in [name.strip() for name in args.engines.split(",") if name.strip()]:
            if args.stages:
                costs[engine] = stage_costs(engine, stored[:args.events], args.batch, Path(work))
            results[engine] = {
                "segue, one batch after another": segue_rate(engine, stored[:args.events], args.batch, Path(work), False),
                "segue": segue_rate(engine, stored[:args.events], args.batch, Path(work)),
            }
            for loader, rate in results[engine].items():
                console.log(f"{engine}: {loader} {rate[0]:,.0f} rows/s")
            peer = dlt_rate(engine, stored[:args.dlt_events], args.batch, Path(work))
            if peer is not None:
                results[engine]["dlt"] = peer
                console.log(f"{engine}: dlt {peer[0]:,.0f} rows/s")
    console.print(results_table(results, args.events, load_average))
    if costs:
        console.print(costs_table(costs, args.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
