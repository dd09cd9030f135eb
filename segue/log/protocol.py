"""The event-log protocol that ingest appends to and every consumer follows.

The log is append-only and ordered within a partition (partition = hash of userId, else
anonymousId). Each named consumer (a destination instance's router, a warehouse loader, the
archive) has its own durable cursor, reads in batches at its own pace and acknowledges what
it has finished. Backends: `memory` (the in-memory twin for tests) and `sqlite` (the embedded
default); JetStream comes with scale-out.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple, Protocol, Sequence

# Entry and Record are NamedTuples rather than frozen dataclasses: ingest makes one per event
# and a tuple is several times cheaper to build on that hot path.


class Entry(NamedTuple):
    """One enriched message on its way into the log."""

    source_id: str
    message_id: str
    partition_key: str  # userId, else anonymousId
    received_at_ms: int
    payload: bytes  # the enriched message as JSON


class Record(NamedTuple):
    """One message as stored in the log, with its position."""

    offset: int  # strictly increasing, starts at 1
    partition: int
    source_id: str
    message_id: str
    received_at_ms: int
    payload: bytes


def partition_for(key: str, partitions: int) -> int:
    """Stable partition of a user key (crc32: fast, same on every node and version)."""
    return zlib.crc32(key.encode()) % partitions


class Consumer(Protocol):
    """A named reader with a durable cursor (the last acknowledged offset)."""

    name: str
    partition: int | None  # the one partition it reads; None: the whole log

    async def fetch(self, max_records: int = 500, wait: float = 0.0) -> list[Record]:
        """Next records after the last fetched one (initially after the committed cursor).

        Waits up to `wait` seconds for new records when none are ready; returns [] on timeout.
        """

    async def ack(self, offset: int) -> None:
        """Durably move the cursor: everything up to `offset` is done."""

    async def committed(self) -> int:
        """The durable cursor (0 when nothing was acknowledged yet)."""

    def rewind(self) -> None:
        """Forget unacknowledged fetches: the next fetch restarts after the committed cursor."""

    async def close(self) -> None:
        """Stop its outstanding reads (a new fetch opens them again)."""


class EventLog(Protocol):
    """Append-only, partitioned, durable log of enriched messages."""

    partitions: int

    async def start(self) -> None:
        """Open storage (and recover after a crash); must be called before use."""

    async def close(self) -> None:
        """Finish pending appends and release files."""

    async def append(self, entries: Sequence[Entry]) -> list[int | None]:
        """Store entries durably; returns each one's offset, or None for a duplicate.

        A duplicate is an entry whose (source_id, message_id) was appended within the dedup
        window; it is acknowledged but not stored again. Returns only once the stored entries
        survive a crash (group commit: concurrent calls share one fsync).
        Raises StorageUnavailable when the log cannot take writes.
        """

    def consumer(self, name: str, start_at_head: bool = False, partition: int | None = None) -> Consumer:
        """The consumer with this name, registering it if new: at cursor 0 (the oldest retained
        record) or, with `start_at_head`, after the newest record (it sees only what comes
        next). A registered consumer holds back prune() until it acks.

        With `partition`, it reads only that partition's records (in offset order); offsets
        stay the log's, and `ack(offset)` means "every record of this partition up to `offset`
        is done". The name alone keys the cursor (e.g. `deliver-<id>@<partition>`); asking for
        a known name with another partition raises ValueError. For prune() its cursor counts
        like any other (conservative: it also holds back other partitions' records above it).
        """

    async def remove_consumer(self, name: str) -> None:
        """Forget a consumer and its cursor (a deleted destination): it no longer holds back
        prune(); registering the name again starts afresh."""

    async def consumer_names(self) -> list[str]:
        """Every registered consumer (durable: also those registered by an earlier process)."""

    async def cursors(self) -> dict[str, int]:
        """Every registered consumer's cursor (its last acknowledged offset), by name; read
        only (a read-only log answers it too)."""

    async def head_offset(self) -> int:
        """The newest stored offset (0 when empty): every record up to it is readable."""

    async def newest(self, limit: int = 20, source_id: str | None = None) -> list[Record]:
        """The newest `limit` records (optionally of one source), oldest first."""

    async def prune(self) -> int:
        """Drop the oldest storage every registered consumer has passed and that is older than
        the retention minimum; returns the number of records dropped."""
