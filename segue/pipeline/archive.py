"""The raw archive: every event the log accepts, as gzip NDJSON per source and hour.

Layout: `<data dir>/archive/<source_id>/<YYYY>/<MM>/<DD>/<HH>/part-<offset>.ndjson.gz`, the hour
of receivedAt in UTC. Each line is the enriched message exactly as the log holds it; each part
is sorted by receivedAt. The `Archiver` is the log consumer `archive`, so ingest never waits for
it: it buffers what it reads, writes one part per (source, hour) per flush (temp file, fsync,
rename, fsync of the directory) and acknowledges the log only after the renames. A crash before
the ack re-reads and rewrites those records (a part of the same name is replaced; a differently
cut one may duplicate them), so `iter_archive` drops duplicates by messageId. Parts are gzip
rather than zstd: no new dependency, and every tool reads them (`zcat`, DuckDB `read_json`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import heapq
import logging
import os
import re
import shutil
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson

from segue.errors import InvalidMessage
from segue.spec.timestamps import parse_ms
from segue.tasks import end_task

log = logging.getLogger(__name__)
ARCHIVE_CONSUMER = "archive"
PART_PREFIX, PART_SUFFIX = "part-", ".ndjson.gz"
HOUR_MS = 3_600_000
FETCH_RECORDS = 5_000
MAX_BUFFERED_RECORDS = 50_000  # flush at least this often, whatever archive_flush_seconds says
IDLE_WAIT_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 30.0
SAFE_ID = re.compile(r"[A-Za-z0-9_.-]+")
HOUR_GLOB = "*/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/[0-9][0-9]"


def archive_root(data_dir: Path | str) -> Path:
    return Path(data_dir) / "archive"


def hour_dir(root: Path, source_id: str, hour_ms: int) -> Path:
    """The directory of one source's hour (any epoch millisecond inside that hour)."""
    hour = datetime.fromtimestamp(hour_ms // HOUR_MS * 3600, UTC)
    return source_dir(root, source_id) / f"{hour:%Y}" / f"{hour:%m}" / f"{hour:%d}" / f"{hour:%H}"


def source_dir(root: Path, source_id: str) -> Path:
    """One source's part of the archive; ValueError for an id that could lead out of it."""
    if not SAFE_ID.fullmatch(source_id) or source_id.strip(".") == "":
        raise ValueError(f"not a source id: {source_id!r}")
    return root / source_id


# Writing --------------------------------------------------------------------------------------


def write_parts(root: Path, records: Sequence[tuple]) -> list[Path]:
    """One part per (source, hour) of `records` (`Record`s or plain tuples of the same fields),
    named after the first record's offset."""
    name = f"{PART_PREFIX}{records[0][0]:012d}{PART_SUFFIX}"
    groups: dict[tuple[str, int], list[tuple[int, int, bytes]]] = defaultdict(list)
    for offset, _, source_id, _, received_at_ms, payload in records:
        groups[(source_id, received_at_ms // HOUR_MS)].append((received_at_ms, offset, payload))
    written = []
    for (source_id, hour), group in groups.items():
        group.sort()
        written.append(write_part(hour_dir(root, source_id, hour * HOUR_MS), name, [line for *_, line in group]))
    return written


def write_part(directory: Path, name: str, lines: list[bytes]) -> Path:
    """Write lines to `directory/name` atomically and durably (a same-named part is replaced)."""
    _make_dirs(directory)
    final, temp = directory / name, directory / f".{name}.{os.getpid()}.tmp"
    with open(temp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as zipped:
            zipped.write(b"\n".join(lines) + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temp, final)
    _fsync_dir(directory)
    return final


def _make_dirs(directory: Path) -> None:
    """Create missing levels, fsyncing each new entry's parent so the path survives a crash."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# Retention ------------------------------------------------------------------------------------


def drop_expired(root: Path, cutoff: datetime) -> int:
    """Delete hours that ended before `cutoff` and stale temp files; the number of hours dropped."""
    dropped = 0
    for directory in sorted(root.glob(HOUR_GLOB)):
        year, month, day, hour = (int(part) for part in directory.parts[-4:])
        if datetime(year, month, day, hour, tzinfo=UTC) + timedelta(hours=1) <= cutoff:
            shutil.rmtree(directory, ignore_errors=True)
            dropped += 1
        else:
            for temp in directory.glob(".*.tmp"):  # left by a crash in the middle of a write
                temp.unlink(missing_ok=True)
    _remove_empty_dirs(root)
    return dropped


def _remove_empty_dirs(root: Path) -> None:
    for depth in ("*/*/*/*", "*/*/*", "*/*", "*"):
        for directory in root.glob(depth):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only succeeds when empty


async def start_archiver(settings: Any, event_log: Any) -> "Archiver | None":
    """The running archiver of `segue serve`; None when `archive_enabled` is off, and then the
    archive's cursor is released so it no longer holds back the log's retention."""
    consumer_name = settings.node_consumer(ARCHIVE_CONSUMER)
    if not settings.archive_enabled:
        await event_log.remove_consumer(consumer_name)
        return None
    archiver = Archiver(event_log, settings.data_dir, consumer_name=consumer_name,
                        retention_days=settings.archive_retention_days,
                        flush_seconds=settings.archive_flush_seconds, sweep_seconds=settings.prune_interval_seconds)
    await archiver.start()
    return archiver


# The consumer ---------------------------------------------------------------------------------


class Archiver:
    """Follows the log as consumer `archive` (`archive@<node>` on a shared log) and writes what it
    reads to the archive."""

    def __init__(self, event_log: Any, data_dir: Path, *, consumer_name: str = ARCHIVE_CONSUMER,
                 retention_days: int = 30, flush_seconds: float = 60.0, sweep_seconds: float = 600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.consumer = event_log.consumer(consumer_name)
        self.root = archive_root(data_dir)
        self.retention_days, self.flush_seconds, self.sweep_seconds = retention_days, flush_seconds, sweep_seconds
        self.clock = clock
        self._buffer: list[tuple] = []  # Record fields, as plain tuples
        self._buffered_since = 0.0
        self._next_sweep = 0.0  # monotonic; the first turn sweeps
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name="archive")

    async def stop(self) -> None:
        """Finish the current turn, write what is buffered, then return."""
        if self._task is None:
            return
        self._stopping.set()
        await end_task(self._task, STOP_TIMEOUT_SECONDS)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except Exception:  # a full disk must not end archiving; the log keeps the records
                log.exception("writing the raw archive failed; retrying shortly")
                self._forget_buffer()
                await asyncio.sleep(1.0)
        with contextlib.suppress(Exception):
            await self.flush()

    async def step(self, wait: float = IDLE_WAIT_SECONDS) -> None:
        """One turn: read, flush when due, sweep when due."""
        records = await self.consumer.fetch(FETCH_RECORDS, wait=wait)
        if records and not self._buffer:
            self._buffered_since = time.monotonic()
        # Kept as plain tuples: the collector stops tracking a tuple of strings, ints and bytes,
        # but never a NamedTuple, and full passes over 50,000 of them stalled ingest (p99 x3).
        self._buffer.extend(map(tuple, records))
        if self._flush_due():
            await self.flush()
        if time.monotonic() >= self._next_sweep:
            await self.sweep()

    async def flush(self) -> int:
        """Write the buffered records, then acknowledge them; the number written."""
        records, count = self._buffer, len(self._buffer)
        if not records:
            return 0
        await asyncio.to_thread(write_parts, self.root, records)
        await self.consumer.ack(records[-1][0])
        self._buffer = []
        return count

    async def sweep(self) -> int:
        """Retention: drop hours older than `retention_days` (0: keep forever); clear stale temps."""
        self._next_sweep = time.monotonic() + self.sweep_seconds
        cutoff = datetime.fromtimestamp(self.clock(), UTC) - timedelta(days=self.retention_days)
        if self.retention_days <= 0:
            cutoff = datetime.fromtimestamp(0, UTC)
        dropped = await asyncio.to_thread(drop_expired, self.root, cutoff)
        if dropped:
            log.info("archive retention dropped %d source-hours older than %s", dropped, cutoff.isoformat())
        return dropped

    def _flush_due(self) -> bool:
        if not self._buffer:
            return False
        full = len(self._buffer) >= MAX_BUFFERED_RECORDS
        return full or time.monotonic() - self._buffered_since >= self.flush_seconds

    def _forget_buffer(self) -> None:
        """After a failed write: read the unacknowledged records again."""
        self._buffer = []
        self.consumer.rewind()


# Reading --------------------------------------------------------------------------------------


def iter_archive(data_dir: Path | str, source_id: str, start: datetime, end: datetime) -> Iterator[dict]:
    """A source's archived events with start <= receivedAt < end, in receivedAt order, each
    messageId once (a crash may have written a record twice). Naive datetimes are UTC."""
    start_ms, end_ms = epoch_ms(start), epoch_ms(end)
    for directory in _hour_dirs(source_dir(archive_root(data_dir), source_id), start_ms // HOUR_MS * HOUR_MS, end_ms):
        for received_ms, event in _read_hour(directory):
            if start_ms <= received_ms < end_ms:
                yield event


def _hour_dirs(source_root: Path, start_ms: int, end_ms: int) -> Iterator[Path]:
    """The source's archived hours in [start_ms, end_ms), oldest first. Only the hours that exist
    are visited, so a range of centuries costs no more than the archive's size."""
    found = sorted(source_root.glob("[0-9]*/[0-9]*/[0-9]*/[0-9]*")) if source_root.is_dir() else []
    for directory in found:
        try:
            hour = datetime(*(int(part) for part in directory.parts[-4:]), tzinfo=UTC)
        except ValueError:
            continue
        if start_ms <= epoch_ms(hour) < end_ms:
            yield directory


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _read_hour(directory: Path) -> Iterator[tuple[int, dict]]:
    """The hour's parts merged in receivedAt order; a duplicate has the same receivedAt as its
    original, so remembering the messageIds of the current millisecond is enough."""
    parts = sorted(directory.glob(f"{PART_PREFIX}*{PART_SUFFIX}")) if directory.is_dir() else []
    current, seen = None, set()
    for received_ms, event in heapq.merge(*(_read_part(part) for part in parts), key=lambda item: item[0]):
        if received_ms != current:
            current, seen = received_ms, set()
        message_id = event.get("messageId")
        if message_id in seen:
            continue
        seen.add(message_id)
        yield received_ms, event


def _read_part(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        with gzip.open(path, "rb") as lines:
            for line in lines:
                if line.strip():
                    event = orjson.loads(line)
                    yield _received_ms(event), event
    except (OSError, EOFError, orjson.JSONDecodeError) as error:  # damaged on disk: keep the rest
        log.warning("skipping the rest of damaged archive part %s: %s", path, error)


def _received_ms(event: dict) -> int:
    try:
        return parse_ms(event.get("receivedAt"), "receivedAt")
    except InvalidMessage:
        return 0
