"""Reading the segments: batches after an offset, the newest records, segment ages.

One `SegmentReader` keeps a read-only connection per segment and must be used from one thread
at a time (SqliteLog gives it a dedicated reader thread). Each query runs in its own read
transaction, so the current segment is seen as of its last commit.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections.abc import Iterator

from segue.log.protocol import Record
from segue.log.segments import COLUMNS, SegmentIndex, segment_path
from segue.log.sqlbatch import close_quietly, connect_read_only

READ_AFTER = f"SELECT {COLUMNS} FROM events WHERE offset > ? ORDER BY offset LIMIT ?"
READ_PARTITION_AFTER = f"SELECT {COLUMNS} FROM events WHERE offset > ? AND partition = ? ORDER BY offset LIMIT ?"
NEWEST = f"SELECT {COLUMNS} FROM events ORDER BY offset DESC LIMIT ?"
NEWEST_OF_SOURCE = f"SELECT {COLUMNS} FROM events WHERE source_id = ? ORDER BY offset DESC LIMIT ?"
IDS_AFTER = "SELECT offset, source_id, message_id FROM events WHERE offset > ? ORDER BY offset"
LAST_RECEIVED = "SELECT received_at_ms FROM events ORDER BY offset DESC LIMIT 1"


class SegmentReader:
    """Read-only queries over the segments listed by a SegmentIndex."""

    def __init__(self, index: SegmentIndex) -> None:
        self.index = index
        self._connections: dict[int, sqlite3.Connection] = {}

    def read_after(self, after: int, limit: int, partition: int | None = None) -> list[Record]:
        """Up to `limit` records with offsets above `after` (of one partition, if given),
        ascending, across segments. A partition's read walks the offsets and skips the other
        partitions' rows inside SQLite (no index: the segments stay as cheap to write)."""
        records: list[Record] = []
        for base in self._bases_from(after + 1):
            wanted = limit - len(records)
            query, params = (READ_AFTER, (after, wanted)) if partition is None else (
                READ_PARTITION_AFTER, (after, partition, wanted))
            records += self._records(base, query, params)
            if len(records) >= limit:
                break
        return records

    def newest(self, limit: int, source_id: str | None = None) -> list[Record]:
        """The newest `limit` records (of one source, if given), oldest first."""
        records: list[Record] = []
        if limit <= 0:
            return records
        for base in reversed(self.index.bases):
            wanted = limit - len(records)
            query, params = (NEWEST, (wanted,)) if source_id is None else (NEWEST_OF_SOURCE, (source_id, wanted))
            records += self._records(base, query, params)
            if len(records) >= limit:
                break
        records.reverse()
        return records

    def ids_after(self, after: int) -> Iterator[tuple[int, str, str]]:
        """(offset, source_id, message_id) of every record above `after`, in order."""
        for base in self._bases_from(after + 1):
            connection = self._connection(base)
            if connection is not None:
                yield from connection.execute(IDS_AFTER, (after,))

    def last_received_ms(self, base: int) -> int | None:
        """received_at_ms of a segment's last record (None when empty or gone)."""
        connection = self._connection(base)
        row = connection.execute(LAST_RECEIVED).fetchone() if connection else None
        return row[0] if row else None

    def forget(self, base: int) -> None:
        """Close the connection of a segment about to be deleted."""
        close_quietly(self._connections.pop(base, None))

    def forget_missing(self) -> None:
        """Close the connections of segments no longer in the index (pruned elsewhere)."""
        for base in set(self._connections) - set(self.index.bases):
            self.forget(base)

    def close(self) -> None:
        for base in list(self._connections):
            self.forget(base)

    def _bases_from(self, offset: int) -> tuple[int, ...]:
        """The segments that may hold `offset` and later ones."""
        bases = self.index.bases
        return bases[max(0, bisect_right(bases, offset) - 1) :]

    def _records(self, base: int, query: str, params: tuple) -> list[Record]:
        connection = self._connection(base)
        if connection is None:
            return []
        return [Record(*row) for row in connection.execute(query, params)]

    def _connection(self, base: int) -> sqlite3.Connection | None:
        """The cached connection to a segment; None when the file is gone (pruned meanwhile)."""
        connection = self._connections.get(base)
        if connection is None:
            path = segment_path(self.index.directory, base)
            try:
                connection = self._connections[base] = connect_read_only(path)
            except sqlite3.OperationalError:
                if path.exists():
                    raise
                return None
        return connection
