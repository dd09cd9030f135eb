"""Warehouse backfill (Business plan, spec 3.8): reload a time range from the raw archive.

For users who dropped a table, connected a warehouse after the log's retention passed, or
turned a source back on: the archived events of the warehouse's sources with
`start <= receivedAt < end` are loaded again through the same `load()` as a sync. Loading
dedups on `id`, so rows already there stay single. The backfill stages in its own folder, so
it never shares a staging folder with the warehouse's scheduled syncs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from segue.pipeline.archive import iter_archive
from segue.pipeline.warehouse_sync import engine_settings, load_options
from segue.warehouses.engines import open_engine
from segue.warehouses.loader import LoadReport, load
from segue.warehouses.naming import schema_name

CHUNK_EVENTS = 25_000
Progress = Callable[[str, int], None]  # (schema, events loaded so far in it)


def backfill(store: Any, warehouse: Any, data_dir: Path, start: datetime, end: datetime,
             on_progress: Progress | None = None) -> dict[str, LoadReport]:
    """Load the archived events of every source the warehouse takes; the report per schema.
    Blocking (engine drivers are): run it in a thread from async code."""
    engine = open_engine(warehouse.engine, **engine_settings(warehouse, data_dir))
    try:
        engine.ping()
        options = replace(load_options(warehouse, data_dir), staging_dir=backfill_stage(data_dir, warehouse.id))
        reports = {}
        for source in _sources(store, warehouse):
            schema = schema_name(source.slug, engine.dialect.slug)
            reports[schema] = _load_source(engine, schema, iter_archive(data_dir, source.id, start, end),
                                           options, on_progress)
        return reports
    finally:
        engine.close()


def backfill_stage(data_dir: Path, warehouse_id: str) -> Path:
    return Path(data_dir) / "warehouses" / warehouse_id / "backfill-stage"


def _sources(store: Any, warehouse: Any) -> list:
    wanted = warehouse.source_ids
    return [source for source in store.list_sources() if wanted is None or source.id in wanted]


def _load_source(engine: Any, schema: str, events: Iterable[dict], options: Any,
                 on_progress: Progress | None) -> LoadReport:
    total, loaded = LoadReport(), 0
    for chunk in _chunks(events, CHUNK_EVENTS):
        total.add(load(engine, schema, chunk, options))
        loaded += len(chunk)
        if on_progress is not None:
            on_progress(schema, loaded)
    return total


def _chunks(events: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk
