"""One warehouse's syncs: its own cursor on the event log, Ping then Load, on a schedule.

A sync (spec 3.7) first connects and checks the grants (Ping), then reads the log from the
warehouse's cursor in chunks, keeps the events of its sources, and loads each source's events
into that source's schema (named from the source slug) with `segue.warehouses.loader.load`,
which applies `integrations.Warehouses` and Selective Sync. The cursor moves only after a chunk
is loaded, so a sync that fails leaves it where it was and the next one loads everything since
the last success; the loader dedups on `id`, so loading a chunk again doubles nothing. Each
sync is recorded in the store's history (Success, Partial or Failure with the reason).

`run()` syncs every `sync_interval_seconds` from the start of the last sync, and at once when
`request()` is called ("sync now"). Loads run in a worker thread: engines are blocking drivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable

import orjson

from segue.errors import SegueError
from segue.log.protocol import Record
from segue.store.syncs import SyncRecord
from segue.warehouses.engines import open_engine
from segue.warehouses.loader import LoadOptions, LoadReport
from segue.warehouses.pipeline import PipelinedLoader
from segue.warehouses.naming import schema_name

log = logging.getLogger(__name__)
CHUNK_EVENTS = 25_000
TICK_SECONDS = 1.0
DUCKDB_FILE = "warehouse.duckdb"
# Called after each chunk with what is done, the offset reached and the offset the sync aims for.
ProgressCallback = Callable[["SyncProgress", int, int], None]


CONSUMER_PREFIX = "warehouse:"


def consumer_name(warehouse_id: str) -> str:
    return f"{CONSUMER_PREFIX}{warehouse_id}"


def staging_dir(data_dir: Path, warehouse_id: str) -> Path:
    return Path(data_dir) / "warehouses" / warehouse_id / "stage"


def engine_settings(warehouse: Any, data_dir: Path) -> dict:
    """The engine's connection settings; DuckDB's empty `path` is `<data dir>/warehouse.duckdb`."""
    settings = {**warehouse.settings, **warehouse.secrets}
    if warehouse.engine == "duckdb" and not settings.get("path"):
        settings["path"] = str(Path(data_dir) / DUCKDB_FILE)
    return settings


def load_options(warehouse: Any, data_dir: Path) -> LoadOptions:
    """Selective Sync: `{"collections": [table, ...], "properties": {table: [column, ...]}}` turned off."""
    choices = warehouse.selective_sync or {}
    columns = {table: frozenset(names) for table, names in (choices.get("properties") or {}).items()}
    return LoadOptions(staging_dir(data_dir, warehouse.id), warehouse_id=warehouse.id,
                       disabled_tables=frozenset(choices.get("collections") or ()), disabled_columns=columns)


@dataclass
class SyncProgress:
    """What a sync has done so far."""

    rows: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    rejected: int = 0

    def add(self, report: LoadReport) -> None:
        for table, count in report.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        self.notices += [notice for notice in report.notices if notice not in self.notices]
        self.rejected += report.rejected

    def status(self, error: str | None) -> str:
        if error is not None:
            return "Partial" if sum(self.rows.values()) else "Failure"
        return "Partial" if self.notices or self.rejected else "Success"


class SyncFailed(Exception):
    """A step of a sync failed; the message says which and why."""


class WarehouseSyncer:
    """Syncs one warehouse; `run()` until cancelled, or `sync_once()` for a single sync."""

    def __init__(self, warehouse: Any, store: Any, event_log: Any, data_dir: Path,
                 clock: Callable[[], float] = time.time, chunk_events: int = CHUNK_EVENTS,
                 tick_seconds: float = TICK_SECONDS, on_progress: ProgressCallback | None = None) -> None:
        self.warehouse = warehouse  # the store's record; the supervisor replaces it when it changes
        self.store, self.log, self.data_dir = store, event_log, Path(data_dir)
        self.clock, self.chunk_events, self.tick_seconds = clock, chunk_events, tick_seconds
        self.on_progress = on_progress
        self.consumer = event_log.consumer(consumer_name(warehouse.id))  # new: from the oldest record
        self.last_started: float | None = None
        self._requested = asyncio.Event()
        self._pending_id: str | None = None
        self._taken_id: str | None = None

    # Schedule ----------------------------------------------------------------------------------

    def request(self, sync_id: str | None = None) -> None:
        """Sync now (taking the pending history row `sync_id`, if given)."""
        if sync_id is not None and sync_id == self._taken_id:
            return  # already taken: the supervisor saw it pending before this syncer started it
        self._pending_id = sync_id or self._pending_id
        self._requested.set()

    def next_due(self) -> float:
        """When the next scheduled sync is due (clock seconds); -inf before the first sync."""
        if self.last_started is None:
            return -math.inf
        return self.last_started + self.warehouse.sync_interval_seconds

    async def run(self) -> None:
        await self._recall_last_start()
        while True:
            sync_id = await self._next_turn()
            try:
                await self.sync_once(sync_id)
            except Exception:  # the store failed us; the history may miss this one, the log has the events
                log.exception("sync of warehouse %s could not be recorded", self.warehouse.id)
                await asyncio.sleep(self.tick_seconds)

    async def _recall_last_start(self) -> None:
        last = await asyncio.to_thread(self.store.last_started_sync, self.warehouse.id)
        if last is not None and self.last_started is None:
            self.last_started = last.started_at.timestamp()

    async def _next_turn(self) -> str | None:
        """Wait until a sync is requested (returns its pending id) or due (returns None)."""
        while True:
            if self._requested.is_set():
                self._requested.clear()
                sync_id, self._pending_id = self._pending_id, None
                self._taken_id = sync_id or self._taken_id
                return sync_id
            remaining = self.next_due() - self.clock()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._requested.wait(), min(remaining, self.tick_seconds))
            except TimeoutError:
                pass

    # One sync ----------------------------------------------------------------------------------

    async def sync_once(self, sync_id: str | None = None) -> SyncRecord:
        """Ping, then load everything since the cursor; record and return the outcome."""
        self.last_started = self.clock()
        started = datetime.fromtimestamp(self.last_started, UTC)
        record = await asyncio.to_thread(self.store.start_sync, self.warehouse.id, sync_id=sync_id, at=started)
        progress, error = SyncProgress(), None
        try:
            await self._ping_and_load(record.id, progress)
        except asyncio.CancelledError:  # recorded if it still can be (a deleted warehouse's cannot)
            with contextlib.suppress(Exception):
                self._finish(record.id, progress, "interrupted: the warehouse was disabled or Segue stopped")
            raise
        except SyncFailed as failure:
            error = str(failure)
        if error:
            log.warning("sync of warehouse %s failed: %s", self.warehouse.name, error)
        return await asyncio.to_thread(self._finish, record.id, progress, error)

    def _finish(self, sync_id: str, progress: SyncProgress, error: str | None) -> SyncRecord:
        finished = datetime.fromtimestamp(self.clock(), UTC)
        return self.store.finish_sync(sync_id, status=progress.status(error), rows=progress.rows,
                                      notices=progress.notices, error=error, at=finished)  # fmt: skip

    async def _ping_and_load(self, sync_id: str, progress: SyncProgress) -> None:
        engine = await self._step("Ping", asyncio.to_thread, self._open_and_ping)
        try:
            await self._step("Load", self._load_all, engine, sync_id, progress)
        finally:
            self.consumer.rewind()  # after a failure the next fetch restarts at the cursor
            await asyncio.to_thread(_close_quietly, engine)

    async def _step(self, name: str, function: Callable, *args) -> Any:
        try:
            return await function(*args)
        except Exception as error:
            raise SyncFailed(f"{name} failed: {describe(error)}") from error

    def _open_and_ping(self) -> Any:
        engine = open_engine(self.warehouse.engine, **engine_settings(self.warehouse, self.data_dir))
        try:
            engine.ping()
        except BaseException:
            _close_quietly(engine)
            raise
        return engine

    async def _load_all(self, engine: Any, sync_id: str, progress: SyncProgress) -> None:
        """Load chunk after chunk up to the newest record at the start, staging each chunk while
        the one before loads (warehouses/pipeline.py); ack each chunk once it is loaded."""
        newest = await self.log.newest(1)
        target = newest[-1].offset if newest else 0
        loader = PipelinedLoader(engine, load_options(self.warehouse, self.data_dir))
        position, in_flight = await self.consumer.committed(), None
        try:
            while position < target and (records := await self.consumer.fetch(self.chunk_events)):
                loaded = await asyncio.to_thread(self._submit, loader, engine.dialect.slug, records)
                if in_flight is not None:
                    await self._acknowledge(loaded, in_flight, sync_id, progress, target)
                in_flight = position = records[-1].offset
            loaded = await asyncio.to_thread(loader.finish)
        finally:
            await asyncio.to_thread(loader.close)
        if in_flight is not None:
            await self._acknowledge(loaded, in_flight, sync_id, progress, target)

    async def _acknowledge(self, report: LoadReport, offset: int, sync_id: str, progress: SyncProgress,
                           target: int) -> None:
        progress.add(report)
        await self.consumer.ack(offset)
        await asyncio.to_thread(self.store.record_sync_progress, sync_id, progress.rows)
        if self.on_progress is not None:
            self.on_progress(progress, offset, target)

    def _submit(self, loader: PipelinedLoader, engine_slug: str, records: list[Record]) -> LoadReport | None:
        """Worker thread: each source's events, decoded as they are staged, to its schema."""
        return loader.submit({schema: map(orjson.loads, payloads)
                              for schema, payloads in self._by_schema(engine_slug, records).items()})

    def _by_schema(self, engine_slug: str, records: list[Record]) -> dict[str, list[bytes]]:
        schemas = self._schemas(engine_slug)
        grouped: dict[str, list[bytes]] = {}
        for record in records:
            schema = schemas.get(record.source_id)
            if schema is not None:
                grouped.setdefault(schema, []).append(record.payload)
        return grouped

    def _schemas(self, engine_slug: str) -> dict[str, str]:
        """Schema per source this warehouse loads (deleted sources' events are skipped)."""
        wanted = self.warehouse.source_ids
        return {source.id: schema_name(source.slug, engine_slug) for source in self.store.list_sources()
                if wanted is None or source.id in wanted}


def describe(error: BaseException) -> str:
    """A clear one-line reason."""
    if isinstance(error, SegueError):
        return error.message
    if isinstance(error, ImportError):
        return f"{error}; install the engine's extra, e.g. pip install 'segue[postgres]'"
    return f"{type(error).__name__}: {error}"


def _close_quietly(engine: Any) -> None:
    try:
        engine.close()
    except Exception:
        log.debug("closing a warehouse connection failed", exc_info=True)
