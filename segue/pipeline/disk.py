"""The data dir's disk budget: a cached usage figure, refreshed in the background.

`DiskWatcher` measures the data dir (the allocated blocks of its files, by part: event log,
archive, warehouse staging, DuckDB file, the rest) and the free space of its filesystem every
`disk_check_seconds`, off the event loop. Ingest reads one attribute, `refusal`: None while
there is room, else the reason it must answer 503 (`storage_full`) until the next measurement
finds room again. Past the high-water mark the watcher calls `relieve` (retention run early,
see `relieve_pressure`) and logs what takes the space. docs/disk.md has the full picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segue.errors import StorageFull
from segue.tasks import cancel_tasks

log = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60.0  # while the pressure lasts, the warning repeats this often
RELIEVE_EVERY_SECONDS = 1.0  # and early retention runs at most this often (it walks the archive)
# The archive holds many small immutable files and grows slowly: walked this often, or every
# round under pressure; the other parts are walked every round.
ARCHIVE_WALK_SECONDS = 30.0
# Top-level entries of the data dir and the part of the budget they count towards.
PARTS = {"log": "event log", "archive": "archive", "warehouses": "warehouse staging"}
DUCKDB_PREFIX = "warehouse.duckdb"  # the default warehouse's file and its .wal


@dataclass(frozen=True, slots=True)
class DiskReading:
    """One measurement: bytes the data dir takes (by part) and bytes free on its filesystem."""

    used_bytes: int
    free_bytes: int
    parts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """`event log 1.2 GB, archive 300.0 MB, ...`, largest first."""
        ordered = sorted(self.parts.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {format_size(size)}" for name, size in ordered if size)


def format_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def part_of(name: str) -> str:
    """The part of the budget a top-level entry of the data dir counts towards."""
    if name.startswith(DUCKDB_PREFIX):
        return "DuckDB file"
    return PARTS.get(name, "other")


def allocated_bytes(path: str) -> int:
    """Bytes allocated on disk to the files under `path` (st_blocks: what they really take)."""
    total = 0
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        with os.scandir(path) as entries:
            total = sum(_entry_bytes(entry) for entry in entries)
    return total


def _entry_bytes(entry: os.DirEntry) -> int:
    try:
        if entry.is_dir(follow_symlinks=False):
            return allocated_bytes(entry.path)
        return entry.stat(follow_symlinks=False).st_blocks * 512
    except FileNotFoundError:  # removed while we walk
        return 0


def measure_parts(data_dir: Path, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Allocated bytes of the data dir, by part (top-level entries named in `skip` left out)."""
    parts: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError):
        with os.scandir(data_dir) as entries:
            for entry in entries:
                if entry.name not in skip:
                    name = part_of(entry.name)
                    parts[name] = parts.get(name, 0) + _entry_bytes(entry)
    return parts


class DiskWatcher:
    """Keeps `refusal` up to date for ingest; relieves pressure past the high-water mark."""

    def __init__(self, data_dir: Path, *, budget_bytes: int = 0, min_free_bytes: int = 0,
                 high_water: float = 0.9, interval: float = 1.0,
                 disk_usage: Callable[[str], Any] = shutil.disk_usage,
                 relieve: Callable[[], Awaitable[None]] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.budget_bytes, self.min_free_bytes, self.high_water = budget_bytes, min_free_bytes, high_water
        self.interval = interval
        self.refusal: str | None = None  # ingest's one check: why it must answer 503, or None
        self.pressing = False  # past the high-water mark (or refusing) at the last measurement
        self.reading: DiskReading | None = None
        self._disk_usage = disk_usage
        self._relieve = relieve
        self._next_warning = 0.0
        self._next_relief = 0.0
        self._archive = (0, 0.0)  # the archive's last walked size, and when to walk it again
        self._task: asyncio.Task | None = None

    def check(self) -> None:
        """Raise StorageFull while the data dir has no room (for callers off the hot path)."""
        if self.refusal is not None:
            raise StorageFull(self.refusal)

    def measure(self) -> DiskReading:
        """Blocking: walk the data dir (only when a budget is set) and ask for the free space."""
        parts = self._measure_parts() if self.budget_bytes else {}
        free = self._disk_usage(str(self.data_dir)).free
        return DiskReading(sum(parts.values()), free, parts)

    def _measure_parts(self) -> dict[str, int]:
        archive_bytes, walk_at = self._archive
        if not self.pressing and time.monotonic() < walk_at:
            parts = measure_parts(self.data_dir, skip=("archive",))
            parts["archive"] = archive_bytes
            return parts
        parts = measure_parts(self.data_dir)
        self._archive = (parts.get("archive", 0), time.monotonic() + ARCHIVE_WALK_SECONDS)
        return parts

    def update(self, reading: DiskReading) -> bool:
        """Take a measurement: set `refusal`; True when past the high-water mark (or refusing)."""
        self.reading = reading
        self.refusal = self._refusal(reading)
        high = bool(self.budget_bytes) and reading.used_bytes >= self.high_water * self.budget_bytes
        self.pressing = high or self.refusal is not None
        return self.pressing

    def _refusal(self, reading: DiskReading) -> str | None:
        if self.budget_bytes and reading.used_bytes >= self.budget_bytes:
            return (f"the data dir is over its disk budget ({format_size(reading.used_bytes)} of "
                    f"{format_size(self.budget_bytes)}); retry later")
        if reading.free_bytes < self.min_free_bytes:
            return (f"the disk holding the data dir is nearly full ({format_size(reading.free_bytes)} free, "
                    f"at least {format_size(self.min_free_bytes)} needed); retry later")
        return None

    async def poll(self) -> None:
        """One round: measure, update, and relieve pressure when past the high-water mark."""
        reading = await asyncio.to_thread(self.measure)
        if not self.update(reading):
            if self._next_warning:
                log.info("disk pressure is over in %s; ingest takes events again", self.data_dir)
            self._next_warning = self._next_relief = 0.0  # the next episode acts at once
            return
        if time.monotonic() >= self._next_warning:
            await self._warn(reading)
        if self._relieve is not None and time.monotonic() >= self._next_relief:
            await self._relieve_now()

    async def _relieve_now(self) -> None:
        """Run retention early; when ingest was refused, measure again at once to let it in sooner."""
        self._next_relief = time.monotonic() + RELIEVE_EVERY_SECONDS
        try:
            await self._relieve()
        except Exception:  # the next round tries again
            log.exception("running retention early (disk pressure) failed")
        if self.refusal is not None:
            self.update(await asyncio.to_thread(self.measure))

    async def _warn(self, reading: DiskReading) -> None:
        self._next_warning = time.monotonic() + WARN_EVERY_SECONDS
        if not reading.parts:  # no budget: the walk is done only to say what takes the space
            parts = await asyncio.to_thread(measure_parts, self.data_dir)
            reading = DiskReading(sum(parts.values()), reading.free_bytes, parts)
        if self.budget_bytes:
            state = f"{format_size(reading.used_bytes)} of a {format_size(self.budget_bytes)} budget"
        else:
            state = f"{format_size(reading.free_bytes)} free"
        parts = reading.describe() or format_size(reading.used_bytes)
        action = "ingest answers 503 until there is room" if self.refusal else "running retention early"
        log.warning("disk pressure in %s: %s (%s); %s", self.data_dir, state, parts, action)

    async def run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:  # measuring must never stop the server; the next round retries
                log.exception("measuring the data dir failed")
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        """Measure once (so ingest is guarded from the first request), then keep measuring."""
        with contextlib.suppress(Exception):
            self.update(await asyncio.to_thread(self.measure))
        self._task = asyncio.create_task(self.run(), name="disk-watch")

    async def stop(self) -> None:
        await cancel_tasks(self._task)
        self._task = None


def watcher_for(settings: Any, relieve: Callable[[], Awaitable[None]] | None = None) -> DiskWatcher:
    return DiskWatcher(settings.data_dir, budget_bytes=settings.disk_budget_bytes,
                       min_free_bytes=settings.disk_min_free_bytes, high_water=settings.disk_high_water,
                       interval=settings.disk_check_seconds, relieve=relieve)


async def relieve_pressure(event_log: Any, archiver: Any | None) -> int:
    """Retention ahead of schedule: drop log segments every consumer has passed (and that the
    retention minimum allows) and archived hours past `archive_retention_days`; records dropped."""
    dropped = await event_log.prune()
    if dropped:
        log.warning("disk pressure: event log retention dropped %d records early", dropped)
    if archiver is not None:
        await archiver.sweep()
    return dropped
