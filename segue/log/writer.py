"""The writer thread: group commit of queued appends, with dedup and recovery.

Every queued append waiting when the thread comes round is written in one transaction and one
fsync (up to `max_group` entries). Order per group: look the keys up in dedup.db, insert the
new entries into the current segment and commit, then hand their keys to the dedup store
(which writes them to dedup.db later, in bulk). A crash before the keys reach dedup.db loses no
record: `recover` re-applies the keys of the records after dedup.db's `applied` offset.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from segue.errors import StorageUnavailable
from segue.log.consumers import LogStats
from segue.log.dedup import dedup_key, new_flags
from segue.log.dedup_store import SqliteDedup
from segue.log.protocol import Entry, partition_for
from segue.log.reader import SegmentReader
from segue.log.segments import Row, SegmentWriter

log = logging.getLogger(__name__)

Outcome = list[int | None] | BaseException
Notify = Callable[[list[tuple[asyncio.Future, Outcome]], int], None]
_STOP = object()


@dataclass(slots=True)
class AppendRequest:
    """One append() call waiting for the writer."""

    entries: Sequence[Entry]
    future: asyncio.Future
    fresh: list[tuple[int, bytes]] = field(default_factory=list)  # (index, key) of the new entries
    offsets: list[int | None] | None = None  # set once durable


class GroupWriter:
    """Owns the write connections; `notify` hands each group's outcomes to the event loop."""

    def __init__(self, segments: SegmentWriter, dedup: SqliteDedup, *, partitions: int,
                 clock: Callable[[], float], stats: LogStats, notify: Notify, max_group: int = 20_000) -> None:
        self.segments = segments
        self.dedup = dedup
        self.partitions = partitions
        self.head = 0  # the last committed offset
        self._clock = clock
        self._stats = stats
        self._notify = notify
        self._max_group = max_group
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._broken: BaseException | None = None  # set: recover before the next group
        self._lock: BinaryIO | None = None

    def open(self) -> None:
        """Take the writer lock, open the files and recover from a crash."""
        self._lock = _take_writer_lock(self.segments.index.directory.parent / "writer.lock")
        self.dedup.open()
        self.recover()

    def recover(self) -> None:
        """(Re)open the current segment and give dedup the keys of records it has not seen.

        At start-up these are the records after dedup.db's `applied` offset; after a failed
        write, any record the failed commit did store after all.
        """
        self.segments.open()
        self.dedup.reconnect()
        head = self.segments.next_offset - 1
        if self.dedup.covered_offset < head:
            self._catch_up(self.dedup.covered_offset)
        self.dedup.covered_offset = head  # also when dedup.db claims more than the log holds
        self.head, self._broken = head, None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="segue-log-writer", daemon=True)
        self._thread.start()

    def submit(self, request: AppendRequest) -> None:
        self._queue.put(request)

    def stop(self) -> None:
        """Write what is queued, then end the thread and close the files (blocking)."""
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()
        self.segments.close()
        self.dedup.close(self._clock())
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _catch_up(self, after: int) -> None:
        """Remember the keys of the records after `after`, a flush's worth at a time."""
        reader = SegmentReader(self.segments.index)
        try:
            rows = reader.ids_after(after)
            while chunk := list(islice(rows, self.dedup.flush_keys)):
                keys = [dedup_key(source_id, message_id) for _, source_id, message_id in chunk]
                self.dedup.remember(keys, self._clock(), chunk[-1][0])
        finally:
            reader.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            group, stopping = self._next_group()
            if group:
                self._write(group)

    def _next_group(self) -> tuple[list[AppendRequest], bool]:
        """Block for one request, then take whatever else is queued, up to max_group entries."""
        item = self._queue.get()
        group: list[AppendRequest] = []
        size = 0
        while item is not _STOP:
            group.append(item)
            size += len(item.entries)
            if size >= self._max_group:
                return group, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return group, False
        return group, True

    def _write(self, group: list[AppendRequest]) -> None:
        try:
            if self._broken is not None:
                self.recover()
            self._store(group, self._clock())
        except Exception as error:  # disk full, I/O error...: these appends fail, the next group recovers
            log.warning("event log write failed: %s", error)
            self._broken = error
        self._notify([(request.future, self._outcome(request)) for request in group], self.head)

    def _outcome(self, request: AppendRequest) -> Outcome:
        if request.offsets is not None:
            return request.offsets
        return StorageUnavailable(f"the event log cannot take writes: {self._broken}")

    def _store(self, group: list[AppendRequest], now: float) -> None:
        """Dedup the group, then commit it in as few units as the segment size allows."""
        self._mark_fresh(group, now)
        unit: list[AppendRequest] = []
        size = 0
        for request in group:
            count = len(request.fresh)
            if not self.segments.fits(size + count) and (unit or self.segments.count):
                self._commit(unit, now)
                self.segments.roll()
                unit, size = [], 0
            unit.append(request)
            size += count
        self._commit(unit, now)

    def _mark_fresh(self, group: list[AppendRequest], now: float) -> None:
        keys = [dedup_key(entry.source_id, entry.message_id) for request in group for entry in request.entries]
        flags = new_flags(keys, self.dedup.known(keys, now))
        start = 0
        for request in group:
            indexes = range(len(request.entries))
            request.fresh = [(index, keys[start + index]) for index in indexes if flags[start + index]]
            start += len(indexes)

    def _commit(self, unit: list[AppendRequest], now: float) -> None:
        """Write one unit in one transaction; its appends are durable once this returns."""
        rows, keys, planned = self._rows(unit)
        if rows:
            self.segments.write(rows)
            self._stats.commits += 1
            self.head = rows[-1][0]
        for request, offsets in zip(unit, planned):
            request.offsets = offsets
        self._count(unit, len(rows))
        self.dedup.remember(keys, now, self.head)

    def _rows(self, unit: list[AppendRequest]) -> tuple[list[Row], list[bytes], list[list[int | None]]]:
        rows: list[Row] = []
        keys: list[bytes] = []
        planned = []
        offset = self.segments.next_offset
        for request in unit:
            offsets: list[int | None] = [None] * len(request.entries)
            for index, key in request.fresh:
                entry = request.entries[index]
                partition = partition_for(entry.partition_key, self.partitions)
                rows.append((offset, partition, entry.source_id, entry.message_id, entry.received_at_ms, entry.payload))
                keys.append(key)
                offsets[index] = offset
                offset += 1
            planned.append(offsets)
        return rows, keys, planned

    def _count(self, unit: list[AppendRequest], stored: int) -> None:
        self._stats.appends += len(unit)
        self._stats.stored += stored
        self._stats.duplicates += sum(len(request.entries) for request in unit) - stored



def _take_writer_lock(path: Path) -> BinaryIO:
    """One writer per log directory, across processes: waits while another still holds it.

    A writer whose owner was killed finishes its group and exits; the kernel then releases
    its lock, so a restarted server never writes beside a leftover writer.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(path, "a+b")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock

