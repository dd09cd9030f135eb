"""SqliteLog: the embedded event log, a directory of SQLite files.

    <directory>/segments/<20-digit base offset>.db   the records (WAL, synchronous=FULL)
    <directory>/dedup.db                             dedup keys (WAL, synchronous=NORMAL)
    <directory>/cursors.db                           consumer cursors (WAL, synchronous=FULL)

Threads: the writer (writer.py) owns the write connections, with a dedup flusher
(dedup_store.py) and a checkpointer (checkpoints.py) beside it; with `writer_process=True`
(what `segue serve` uses) they run in a child process instead (writer_process.py), so that
ingest and group commit use both cores; one reader thread runs every
read and deletes pruned segments; acks run in the default executor. The log belongs to the
event loop that started it. docs/event-log.md has the full picture.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from segue.errors import StorageUnavailable
from segue.log.consumers import HeadWatch, LogConsumer, LogStats, check_partition, same_partition
from segue.log.cursors import CursorStore, read_cursors
from segue.log.dedup_store import SqliteDedup
from segue.log.protocol import Entry, Record
from segue.log.reader import SegmentReader
from segue.log.segments import SegmentIndex, SegmentWriter, delete_segment
from segue.log.writer import AppendRequest, GroupWriter, Outcome
from segue.log.writer_process import ProcessWriter, WriterConfig

T = TypeVar("T")


class SqliteLog:
    """The embedded EventLog. With `read_only=True` it only serves `newest()`, from any process."""

    def __init__(self, directory: Path, partitions: int = 32, dedup_window_seconds: int = 86400,
                 segment_max_records: int = 1_000_000, retention_min_seconds: int = 86400,
                 clock: Callable[[], float] = time.time, read_only: bool = False,
                 dedup_flush_keys: int = 100_000, writer_process: bool = False) -> None:
        self.directory = Path(directory)
        self.partitions = partitions
        self.retention_min_seconds = retention_min_seconds
        self.read_only = read_only
        self.stats = LogStats()
        self.head = HeadWatch()
        self._clock = clock
        self._index = SegmentIndex(self.directory / "segments")
        self._reader = SegmentReader(self._index)
        self._cursors = CursorStore(self.directory / "cursors.db")
        self._consumers: dict[str, LogConsumer] = {}
        self._writer = None
        if writer_process and not read_only:
            config = WriterConfig(str(self.directory), partitions, dedup_window_seconds, segment_max_records,
                                  dedup_flush_keys)
            self._writer = ProcessWriter(config, self._index, self.stats, self._settle)
        elif not read_only:
            self._writer = GroupWriter(
                SegmentWriter(self._index, segment_max_records),
                SqliteDedup(self.directory / "dedup.db", dedup_window_seconds, dedup_flush_keys),
                partitions=partitions, clock=clock, stats=self.stats, notify=self._notify,
            )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reads: ThreadPoolExecutor | None = None
        self._writable = False

    @classmethod
    def open_reader(cls, directory: Path, partitions: int = 32) -> SqliteLog:
        """A read-only view for another process (`segue events list`): no writer thread."""
        return cls(directory, partitions=partitions, read_only=True)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="segue-log-read")
        if self._writer is None:
            return
        await self._in_reader(self._open_files)
        self.head.advance(self._writer.head)
        if isinstance(self._writer, ProcessWriter):
            await self._writer.connect()
        else:
            self._writer.start()
        self._writable = True

    async def close(self) -> None:
        if self._reads is None:
            return
        if self._writable:
            self._writable = False  # appends from now on fail; those queued are written first
            if isinstance(self._writer, ProcessWriter):
                await self._writer.close()
            else:
                await asyncio.to_thread(self._writer.stop)
        await self._in_reader(self._close_files)
        self._reads.shutdown(wait=True)
        self._reads = None

    async def append(self, entries: Sequence[Entry]) -> list[int | None]:
        if not entries:
            return []
        if not self._writable:
            raise StorageUnavailable("the event log is not open for writes")
        future = self._loop.create_future()
        self._writer.submit(AppendRequest(entries, future))
        return await future

    def consumer(self, name: str, start_at_head: bool = False, partition: int | None = None) -> LogConsumer:
        if name not in self._consumers:
            self._require_writable()
            check_partition(partition, self.partitions)
            start = self.head.head if start_at_head else 0
            self._consumers[name] = LogConsumer(name, self._cursors.register(name, start), self, partition)
        return same_partition(self._consumers[name], partition)

    async def remove_consumer(self, name: str) -> None:
        self._require_writable()
        self._consumers.pop(name, None)
        await asyncio.to_thread(self._cursors.remove, name)

    async def consumer_names(self) -> list[str]:
        return await asyncio.to_thread(self._cursors.names)

    async def cursors(self) -> dict[str, int]:
        if self.read_only:
            return await asyncio.to_thread(read_cursors, self._cursors.path)
        return await asyncio.to_thread(self._cursors.all)

    async def head_offset(self) -> int:
        """The newest stored offset (0 when empty)."""
        return self.head.head

    async def newest(self, limit: int = 20, source_id: str | None = None) -> list[Record]:
        return await self._in_reader(self._newest, limit, source_id)

    async def prune(self) -> int:
        self._require_writable()
        return await self._in_reader(self._prune)

    async def read_after(self, after: int, limit: int, partition: int | None = None) -> list[Record]:
        """Up to `limit` records after `after` (of one partition, if given): consumers' reads."""
        if after >= self.head.head:
            return []  # caught up: no thread hop
        return await self._in_reader(self._reader.read_after, after, limit, partition)

    async def save_cursor(self, name: str, offset: int) -> None:
        await asyncio.to_thread(self._cursors.save, name, offset)

    def _require_writable(self) -> None:
        if not self._writable:
            raise StorageUnavailable("the event log is not open for writes (not started, closed or read-only)")

    async def _in_reader(self, function: Callable[..., T], *args) -> T:
        if self._reads is None:
            raise StorageUnavailable("the event log is not started")
        return await self._loop.run_in_executor(self._reads, function, *args)

    def _open_files(self) -> None:
        self._writer.open()  # creates the directories, re-applies missing dedup keys
        self._cursors.open()

    def _close_files(self) -> None:
        self._reader.close()
        self._cursors.close()

    def _notify(self, outcomes: list[tuple[asyncio.Future, Outcome]], head: int) -> None:
        """Writer thread: hand a group's outcomes to the loop in one wake-up."""
        try:
            self._loop.call_soon_threadsafe(self._settle, outcomes, head)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    def _settle(self, outcomes: list[tuple[asyncio.Future, Outcome]], head: int) -> None:
        for future, outcome in outcomes:
            if future.done():
                continue  # the caller gave up (cancelled); its entries are stored all the same
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        self.head.advance(head)

    def _newest(self, limit: int, source_id: str | None) -> list[Record]:
        if self._writer is None:
            self._index.refresh()  # another process may have rolled or pruned segments
            self._reader.forget_missing()
        return self._reader.newest(limit, source_id)

    def _prune(self) -> int:
        """Reader thread: delete the oldest segments every consumer passed and retention allows."""
        floor = self._cursors.minimum()
        cutoff_ms = (self._clock() - self.retention_min_seconds) * 1000
        bases = self._index.bases
        dropped = 0
        for base, next_base in pairwise(bases):  # never the last (current) segment
            newest_ms = self._reader.last_received_ms(base)
            if (floor is not None and next_base - 1 > floor) or (newest_ms or 0) > cutoff_ms:
                break
            self._reader.forget(base)
            self._index.remove(base)
            delete_segment(self._index.directory, base)
            dropped += next_base - base
        return dropped
