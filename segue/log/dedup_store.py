"""dedup.db: the SQLite dedup store, with the newest keys held in memory until a bulk flush.

On disk: one `gen_<n>` table per generation (16-byte key, first-seen second) and `applied`,
the highest log offset whose key is on disk. dedup.db runs with synchronous=NORMAL because
the log can rebuild it: start-up re-applies the keys of every record after `applied`.

Why keys are flushed in bulk rather than a group at a time: a key is a random hash, so each
insert dirties its own B-tree page and the WAL receives one page per key (measured here:
20-27 us and 3-9 KB written per key once the table holds a million keys). Keys therefore
collect in a dict (`pending`) and a background thread inserts them, sorted, in one
transaction once there are `flush_keys` of them (about 5 us per key; close() flushes the rest).
Lookups consult the dict first, then a Bloom filter per table (keyfilter.py), and only the keys
a filter may hold are looked up in the tables, with `key IN (...)`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from segue.log.dedup import generation, is_fresh
from segue.log.keyfilter import KeyFilter
from segue.log.sqlbatch import (
    LOOKUP_CHUNK,
    background_priority,
    close_quietly,
    connect,
    flatten,
    in_clause,
    pow2_chunks,
    rollback_quietly,
    rows_per_statement,
    values_clause,
)

log = logging.getLogger(__name__)
CACHE_KIB = 32768  # per connection (lookups, flushes)
BACKLOG_FACTOR = 4  # pending keys wait for a slow flush beyond flush_keys x this


class SqliteDedup:
    """Lookups and `remember` from the writer thread; flushes on a thread of their own."""

    def __init__(self, path: Path, window: int, flush_keys: int = 100_000) -> None:
        self.path = path
        self.window = window
        self.flush_keys = flush_keys
        self.covered_offset = 0  # keys of records up to here are in memory or on disk
        self._pending: dict[bytes, int] = {}
        self._flushing: dict[bytes, int] = {}  # being written; kept after a failed flush
        self._tables: frozenset[int] = frozenset()
        self._filters: dict[int, KeyFilter] = {}  # generation -> the keys its table holds
        self._reads = self._writes = None
        self._flusher: ThreadPoolExecutor | None = None
        self._job: Future | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open_tables()
        except sqlite3.DatabaseError as error:  # damaged: start afresh, recovery re-reads the log
            log.warning("dedup.db unreadable (%s): rebuilding it from the log", error)
            close_quietly(self._writes)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._open_tables()
        self._reads = connect(self.path, "NORMAL", CACHE_KIB)
        self._flusher = ThreadPoolExecutor(1, thread_name_prefix="segue-log-dedup", initializer=background_priority)
        self.covered_offset = self.applied_offset

    def _open_tables(self) -> None:
        self._writes = connect(self.path, "NORMAL", CACHE_KIB)
        self._writes.execute("CREATE TABLE IF NOT EXISTS applied (id INTEGER PRIMARY KEY CHECK (id = 1), offset INTEGER)")
        self._writes.execute("INSERT OR IGNORE INTO applied VALUES (1, 0)")
        self._writes.execute("PRAGMA temp_store = MEMORY")
        self._writes.execute("CREATE TEMP TABLE IF NOT EXISTS staged (key BLOB, seen_at INTEGER)")
        names = self._writes.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'gen_*'")
        self._tables = frozenset(int(name[4:]) for (name,) in names)
        self._filters = {number: self._filter_of_table(number) for number in self._tables}

    def _filter_of_table(self, number: int) -> KeyFilter:
        key_filter = KeyFilter()
        key_filter.add_all(key for (key,) in self._writes.execute(f"SELECT key FROM gen_{number}"))
        return key_filter

    def close(self, now: float) -> None:
        """Flush what is in memory (best effort: the log can rebuild it), release the files."""
        if self._flusher is None:
            return
        self._flusher.shutdown(wait=True)
        if self._pending or self._flushing:
            self._flush(self._take_batch(), self.covered_offset, now)
        close_quietly(self._reads)
        close_quietly(self._writes)
        self._flusher = self._reads = self._writes = None

    def reconnect(self) -> None:
        """A fresh lookup connection (after an I/O error)."""
        close_quietly(self._reads)
        self._reads = connect(self.path, "NORMAL", CACHE_KIB)

    @property
    def applied_offset(self) -> int:
        return self._reads_or_writes().execute("SELECT offset FROM applied").fetchone()[0]

    def known(self, keys: Sequence[bytes], now: float) -> set[bytes]:
        """The keys among `keys` seen less than a window ago."""
        found: set[bytes] = set()
        on_disk: list[bytes] = []
        filters = self._live_filters(now)
        for key in keys:
            seen_at = self._pending.get(key)
            if seen_at is None:
                seen_at = self._flushing.get(key)
            if seen_at is None:
                if any(key_filter.might_contain(key) for key_filter in filters):
                    on_disk.append(key)
            elif is_fresh(seen_at, now, self.window):
                found.add(key)
        return found | self._look_up(on_disk, now) if on_disk else found

    def _live_filters(self, now: float) -> list[KeyFilter]:
        oldest = generation(now, self.window) - 1
        return [key_filter for number, key_filter in list(self._filters.items()) if number >= oldest]

    def remember(self, keys: Sequence[bytes], now: float, covered_offset: int) -> None:
        """Record new keys first seen `now`, from log records up to `covered_offset`."""
        seen_at = int(now)
        for key in keys:
            self._pending[key] = seen_at
        self.covered_offset = covered_offset
        if len(self._pending) >= self.flush_keys:
            self._flush_in_background(now)

    def _look_up(self, keys: list[bytes], now: float) -> set[bytes]:
        oldest = generation(now, self.window) - 1
        found: set[bytes] = set()
        for number in [n for n in self._tables if n >= oldest]:
            for chunk in pow2_chunks(keys, LOOKUP_CHUNK):
                found.update(key for key, seen_at in self._query(number, chunk) if is_fresh(seen_at, now, self.window))
        return found

    def _query(self, number: int, keys: Sequence[bytes]) -> list[tuple[bytes, int]]:
        sql = f"SELECT key, seen_at FROM gen_{number} WHERE key IN {in_clause(len(keys))}"
        try:
            return self._reads.execute(sql, keys).fetchall()
        except sqlite3.OperationalError:
            if number in self._tables:
                raise
            return []  # dropped meanwhile by the flusher: it held only expired keys

    def _flush_in_background(self, now: float) -> None:
        if self._job is not None and not self._job.done():
            if len(self._pending) < BACKLOG_FACTOR * self.flush_keys:
                return
            wait([self._job])  # the flusher cannot keep up: hold the writer rather than grow without bound
        self._job = self._flusher.submit(self._flush, self._take_batch(), self.covered_offset, now)

    def _take_batch(self) -> dict[bytes, int]:
        """Move the pending keys to `flushing` (with those of a failed flush, older first)."""
        batch = {**self._flushing, **self._pending} if self._flushing else self._pending
        self._flushing, self._pending = batch, {}
        return batch

    def _flush(self, batch: dict[bytes, int], covered_offset: int, now: float) -> None:
        """Write a batch with the offset it covers; on failure keep it for the next flush."""
        try:
            self._write(batch, covered_offset, now)
        except Exception as error:  # the keys stay in `flushing`; the next flush retries them
            log.warning("dedup flush failed, will retry: %s", error)
            return
        if self._flushing is batch:
            self._flushing = {}
        self._drop_old(now)

    def _write(self, batch: dict[bytes, int], covered_offset: int, now: float) -> None:
        """Stage the batch in a temp table, then copy it sorted into each live generation.

        Why SQLite sorts: sorting 100,000 keys in Python holds the GIL for about 0.2 s, which
        the event loop and the writer thread would wait for; SQLite sorts with it released.
        """
        current = generation(now, self.window)
        try:
            self._writes.execute("BEGIN IMMEDIATE")
            self._stage(batch)
            written = [number for number in (current - 1, current) if self._copy(number, now)]
            self._writes.execute("DELETE FROM staged")
            self._writes.execute("UPDATE applied SET offset = ?", (covered_offset,))  # flushes run in order
            self._writes.execute("COMMIT")
        except BaseException:
            rollback_quietly(self._writes)
            raise
        self._add_to_filters(batch, written)
        self._tables = self._tables | set(written)

    def _add_to_filters(self, batch: dict[bytes, int], written: list[int]) -> None:
        """Before the batch leaves `flushing`, so that a key is always in one or the other.
        A key the copy skipped as expired may be added too: a filter may only err on "maybe"."""
        by_generation: dict[int, list[bytes]] = {number: [] for number in written}
        for key, seen_at in batch.items():
            keys = by_generation.get(generation(seen_at, self.window))
            if keys is not None:
                keys.append(key)
        for number, keys in by_generation.items():
            self._filters.setdefault(number, KeyFilter()).add_all(keys)

    def _stage(self, batch: dict[bytes, int]) -> None:
        rows = list(batch.items())
        for chunk in pow2_chunks(rows, rows_per_statement(2)):
            self._writes.execute(f"INSERT INTO staged VALUES {values_clause(len(chunk), 2)}", flatten(chunk))

    def _copy(self, number: int, now: float) -> bool:
        """Copy the staged keys of generation `number` that are still fresh; False if none."""
        bounds = (max(number * self.window, int(now) - self.window + 1), (number + 1) * self.window)
        where = "FROM staged WHERE seen_at >= ? AND seen_at < ?"
        if not self._writes.execute(f"SELECT EXISTS (SELECT 1 {where})", bounds).fetchone()[0]:
            return False
        self._writes.execute(f"CREATE TABLE IF NOT EXISTS gen_{number} (key BLOB PRIMARY KEY, seen_at INTEGER) WITHOUT ROWID")
        self._writes.execute(f"INSERT OR REPLACE INTO gen_{number} SELECT key, seen_at {where} ORDER BY key", bounds)
        return True

    def _drop_old(self, now: float) -> None:
        """Drop generations no key of which can still be fresh (about once per window)."""
        oldest = generation(now, self.window) - 1
        for number in sorted(n for n in self._tables if n < oldest):
            self._tables = self._tables - {number}  # lookups stop using it before it goes
            self._filters.pop(number, None)
            try:
                self._writes.execute(f"DROP TABLE IF EXISTS gen_{number}")
            except sqlite3.Error as error:  # left for the next open, which lists it again
                log.warning("dropping dedup generation %s failed: %s", number, error)

    def _reads_or_writes(self) -> sqlite3.Connection:
        return self._reads or self._writes
