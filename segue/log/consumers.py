"""What both backends share on the reading side: the consumer, the head watch, the counters.

Both MemoryLog and SqliteLog hand out the same `LogConsumer`, so consumer semantics are the
same by construction; a backend only provides `read_after`, `head` and `save_cursor`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from segue.log.protocol import Record


@dataclass(slots=True)
class LogStats:
    """Counters of a log since it was opened."""

    appends: int = 0  # append() calls answered (stored or duplicate)
    commits: int = 0  # durable commits (a SQLite group commit shares one among many appends)
    stored: int = 0  # records written
    duplicates: int = 0  # entries dropped as duplicates


class HeadWatch:
    """The newest committed offset, and the fetches waiting for it to move (event-loop side)."""

    def __init__(self, head: int = 0) -> None:
        self.head = head
        self._waiters: set[asyncio.Future] = set()

    def advance(self, head: int) -> None:
        """Record a new head and wake every waiter."""
        if head <= self.head:
            return
        self.head = head
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_beyond(self, offset: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a record above `offset`; False on timeout."""
        if self.head > offset:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


class ConsumerBackend(Protocol):
    head: HeadWatch

    async def read_after(self, after: int, limit: int, partition: int | None = None) -> list[Record]: ...

    async def save_cursor(self, name: str, offset: int) -> None: ...


def check_partition(partition: int | None, partitions: int) -> int | None:
    """`partition` if the log has it (or None: the whole log); ValueError otherwise."""
    if partition is not None and not 0 <= partition < partitions:
        raise ValueError(f"partition {partition} is not one of the log's {partitions} partitions")
    return partition


def same_partition(consumer, partition: int | None):
    """The consumer asked for by name again, if it reads the same partition (ValueError if not)."""
    if consumer.partition != partition:
        raise ValueError(f"consumer {consumer.name!r} reads partition {consumer.partition}, not {partition}")
    return consumer


class LogConsumer:
    """A named reader with a durable cursor (see protocol.Consumer); with `partition`, it reads
    that partition's records only (offsets stay the log's global offsets)."""

    def __init__(self, name: str, committed: int, backend: ConsumerBackend, partition: int | None = None) -> None:
        self.name = name
        self.partition = partition
        self._backend = backend
        self._committed = committed
        self._position = committed  # the last offset handed out by fetch (or scanned past, see fetch)
        self._rewinds = 0  # a fetch that sees this change while it reads hands out nothing

    async def fetch(self, max_records: int = 500, wait: float = 0.0) -> list[Record]:
        deadline = asyncio.get_running_loop().time() + wait
        rewinds = self._rewinds
        while True:
            head = self._backend.head.head  # every record up to here is readable now
            records = await self._backend.read_after(self._position, max_records, self.partition)
            if self._rewinds != rewinds:
                return []  # rewound while reading (a read cut short, its cancellation lost): read again
            if records:
                self._position = records[-1].offset
            if len(records) < max_records:
                self._skip_to(head)
            remaining = deadline - asyncio.get_running_loop().time()
            if records or remaining <= 0 or not await self._backend.head.wait_beyond(head, remaining):
                return records

    def _skip_to(self, head: int) -> None:
        """A partition consumer's short read saw every record of its partition up to `head`:
        the next read starts there rather than scanning the other partitions' records again."""
        if self.partition is not None:
            self._position = max(self._position, head)

    async def ack(self, offset: int) -> None:
        if offset <= self._committed:
            return
        await self._backend.save_cursor(self.name, offset)
        self._committed = max(self._committed, offset)
        self._position = max(self._position, offset)

    async def committed(self) -> int:
        return self._committed

    async def close(self) -> None:
        """Nothing to stop: reads on this backend hold nothing between fetches."""

    def rewind(self) -> None:
        """Also cancels the effect of a fetch under way: it returns nothing and moves nothing.
        (Cancelling a fetch is not enough: asyncio may hand it its result anyway.)"""
        self._position = self._committed
        self._rewinds += 1
