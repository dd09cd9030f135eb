"""MemoryLog: the in-memory twin of SqliteLog, for tests of the layers above the log.

Same dedup rules (dedup.py), same consumers (consumers.py), same offsets; each append is its
own commit and nothing survives the process. Prune drops records rather than segment files.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import islice
from operator import attrgetter

from segue.log.consumers import HeadWatch, LogConsumer, LogStats, check_partition, same_partition
from segue.log.dedup import MemoryDedup, dedup_key, new_flags
from segue.log.protocol import Entry, Record, partition_for

_offset_of = attrgetter("offset")


class MemoryLog:
    """An EventLog held in a list; usable without start()."""

    def __init__(self, partitions: int = 32, dedup_window_seconds: int = 86400,
                 clock: Callable[[], float] = time.time, retention_min_seconds: int = 86400) -> None:
        self.partitions = partitions
        self.retention_min_seconds = retention_min_seconds
        self.stats = LogStats()
        self.head = HeadWatch()
        self._clock = clock
        self._dedup = MemoryDedup(dedup_window_seconds)
        self._records: list[Record] = []
        self._last_offset = 0
        self._cursors: dict[str, int] = {}
        self._consumers: dict[str, LogConsumer] = {}

    async def start(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to release; the records stay readable."""

    async def append(self, entries: Sequence[Entry]) -> list[int | None]:
        if not entries:
            return []
        now = self._clock()
        keys = [dedup_key(entry.source_id, entry.message_id) for entry in entries]
        flags = new_flags(keys, self._dedup.known(keys, now))
        offsets = [self._store(entry) if fresh else None for entry, fresh in zip(entries, flags)]
        self._dedup.remember([key for key, fresh in zip(keys, flags) if fresh], now)
        self._count(len(entries), flags.count(True))
        self.head.advance(self._last_offset)
        return offsets

    def consumer(self, name: str, start_at_head: bool = False, partition: int | None = None) -> LogConsumer:
        if name not in self._consumers:
            check_partition(partition, self.partitions)
            committed = self._cursors.setdefault(name, self._last_offset if start_at_head else 0)
            self._consumers[name] = LogConsumer(name, committed, self, partition)
        return same_partition(self._consumers[name], partition)

    async def remove_consumer(self, name: str) -> None:
        self._consumers.pop(name, None)
        self._cursors.pop(name, None)

    async def consumer_names(self) -> list[str]:
        return sorted(self._cursors)

    async def cursors(self) -> dict[str, int]:
        return dict(self._cursors)

    async def head_offset(self) -> int:
        """The newest stored offset (0 when empty)."""
        return self.head.head

    async def newest(self, limit: int = 20, source_id: str | None = None) -> list[Record]:
        if limit <= 0:
            return []
        matching = [r for r in self._records if source_id in (None, r.source_id)]
        return matching[-limit:]

    async def prune(self) -> int:
        """Drop the oldest records every consumer passed and retention allows."""
        floor = min(self._cursors.values(), default=None)
        cutoff_ms = (self._clock() - self.retention_min_seconds) * 1000
        count = 0
        for record in self._records:
            if (floor is not None and record.offset > floor) or record.received_at_ms > cutoff_ms:
                break
            count += 1
        del self._records[:count]
        return count

    async def read_after(self, after: int, limit: int, partition: int | None = None) -> list[Record]:
        start = bisect_right(self._records, after, key=_offset_of)
        if partition is None:
            return self._records[start : start + limit]
        return list(islice((r for r in islice(self._records, start, None) if r.partition == partition), limit))

    async def save_cursor(self, name: str, offset: int) -> None:
        self._cursors[name] = max(self._cursors[name], offset)

    def _store(self, entry: Entry) -> int:
        self._last_offset += 1
        partition = partition_for(entry.partition_key, self.partitions)
        self._records.append(Record(self._last_offset, partition, entry.source_id, entry.message_id,
                                    entry.received_at_ms, entry.payload))
        return self._last_offset

    def _count(self, entries: int, stored: int) -> None:
        self.stats.appends += 1
        self.stats.commits += 1 if stored else 0
        self.stats.stored += stored
        self.stats.duplicates += entries - stored
