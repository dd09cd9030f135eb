"""Segment files: `segments/<20-digit base offset>.db`, one `events` table each.

Offsets are global and contiguous: a segment holds base .. next segment's base - 1. A new
segment is built under a temporary name and renamed into place, so a reader never sees a
segment file without its table.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from bisect import insort
from collections.abc import Sequence
from pathlib import Path

from segue.log.checkpoints import REQUEST_BYTES, SAFETY_NET_PAGES, Checkpointer
from segue.log.sqlbatch import (
    close_quietly,
    connect,
    flatten,
    pow2_chunks,
    rollback_quietly,
    rows_per_statement,
    values_clause,
)

SUFFIX = ".db"
PARTIAL_SUFFIX = ".db.partial"
COLUMNS = "offset, partition, source_id, message_id, received_at_ms, payload"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (offset INTEGER PRIMARY KEY, partition INTEGER,"
    " source_id TEXT, message_id TEXT, received_at_ms INTEGER, payload BLOB)"
)
Row = tuple[int, int, str, str, int, bytes]
ROW_OVERHEAD = 60  # bytes of a record besides its payload, roughly


def segment_path(directory: Path, base: int) -> Path:
    return directory / f"{base:020d}{SUFFIX}"


def scan_bases(directory: Path) -> list[int]:
    """Base offsets of the segment files in `directory`, ascending."""
    if not directory.is_dir():
        return []
    names = (name[: -len(SUFFIX)] for name in os.listdir(directory) if name.endswith(SUFFIX))
    return sorted(int(stem) for stem in names if stem.isdigit())


def delete_segment(directory: Path, base: int) -> None:
    """Unlink a segment file with its -wal and -shm files."""
    path = segment_path(directory, base)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def create_segment(directory: Path, base: int) -> Path:
    """Create an empty segment (WAL mode, `events` table) and make its name durable."""
    final = segment_path(directory, base)
    partial = directory / f"{base:020d}{PARTIAL_SUFFIX}"
    partial.unlink(missing_ok=True)
    with_table = connect(partial, "FULL")
    try:
        with_table.execute(SCHEMA)
    finally:
        with_table.close()  # the last connection checkpoints and removes the -wal file
    os.replace(partial, final)
    _fsync_directory(directory)
    return final


def remove_partial_segments(directory: Path) -> None:
    """Delete segments whose creation a crash interrupted (they hold no records)."""
    for path in directory.glob(f"*{PARTIAL_SUFFIX}*"):
        path.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """A renamed file survives a crash only once its directory entry is on disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class SegmentIndex:
    """The sorted base offsets of the live segments, shared by the writer and the readers."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.bases: tuple[int, ...] = ()  # replaced whole, so readers need no lock
        self._lock = threading.Lock()

    def refresh(self) -> tuple[int, ...]:
        with self._lock:
            self.bases = tuple(scan_bases(self.directory))
            return self.bases

    def add(self, base: int) -> None:
        with self._lock:
            bases = list(self.bases)
            insort(bases, base)
            self.bases = tuple(bases)

    def remove(self, base: int) -> None:
        with self._lock:
            self.bases = tuple(b for b in self.bases if b != base)


class SegmentWriter:
    """The last segment, open for appends; rolls to a new file when it is full.

    Used only by the writer thread. `next_offset` and `count` move only after a commit.
    """

    def __init__(self, index: SegmentIndex, max_records: int) -> None:
        self.index = index
        self.max_records = max_records
        self.base = 0
        self.count = 0
        self._db: sqlite3.Connection | None = None
        self._checkpointer: Checkpointer | None = None
        self._wal_bytes = 0  # written since the last checkpoint request (estimate)

    @property
    def next_offset(self) -> int:
        return self.base + self.count

    def fits(self, records: int) -> bool:
        """Whether `records` more go into this segment (an empty one takes any number)."""
        return self.count == 0 or self.count + records <= self.max_records

    def open(self) -> None:
        """(Re)open the last segment, creating the first one in an empty log."""
        self.close()
        self._checkpointer = Checkpointer()
        directory = self.index.directory
        directory.mkdir(parents=True, exist_ok=True)
        remove_partial_segments(directory)
        bases = self.index.refresh() or (self._create(1),)
        self.base = bases[-1]
        self._connect()
        last = self._db.execute("SELECT max(offset) FROM events").fetchone()[0]
        self.count = 0 if last is None else last - self.base + 1

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        close_quietly(self._db)
        self._db = None

    def roll(self) -> None:
        """Start a new segment at `next_offset`; the checkpointer seals the full one."""
        base = self.next_offset
        sealed, self._db = self._db, None
        self._checkpointer.seal(sealed, self.path)
        self._create(base)
        self.base, self.count = base, 0
        self._connect()

    def write(self, rows: Sequence[Row]) -> None:
        """Insert rows (offsets from `next_offset` on) in one transaction, durable on return."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for chunk in pow2_chunks(rows, rows_per_statement(6)):
                self._db.execute(f"INSERT INTO events ({COLUMNS}) VALUES {values_clause(len(chunk), 6)}", flatten(chunk))
            self._db.execute("COMMIT")
        except BaseException:
            rollback_quietly(self._db)
            raise
        self.count += len(rows)
        self._wal_bytes += sum(len(row[5]) for row in rows) + ROW_OVERHEAD * len(rows)
        if self._wal_bytes >= REQUEST_BYTES:
            self._checkpointer.request(self.path)
            self._wal_bytes = 0

    @property
    def path(self) -> Path:
        return segment_path(self.index.directory, self.base)

    def _connect(self) -> None:
        self._db = connect(self.path, "FULL")
        self._db.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_NET_PAGES}")  # see checkpoints.py
        self._db.execute("PRAGMA journal_size_limit = 67108864")  # the WAL shrinks back to 64 MiB

    def _create(self, base: int) -> int:
        create_segment(self.index.directory, base)
        self.index.add(base)
        return base
