"""Dedup by (source_id, message_id) within a time window, for both backends.

A key is the 16-byte blake2b of `source_id + "\\0" + message_id`. Keys live in generations of
one window each (generation n = floor(now / window)); only the current and the previous
generation can hold a key seen less than a window ago, so older generations are dropped whole.
Each key keeps the second it was first seen: an entry is a duplicate when its key was seen
less than `window` seconds ago.
"""

from __future__ import annotations

import sqlite3
from hashlib import blake2b
from pathlib import Path
from typing import Iterable, Sequence

from segue.log.sqlbatch import connect, flatten, in_clause, pow2_chunks, rollback_quietly, values_clause

KEY_BYTES = 16


def dedup_key(source_id: str, message_id: str) -> bytes:
    return blake2b(f"{source_id}\0{message_id}".encode(), digest_size=KEY_BYTES).digest()


def generation(now: float, window: int) -> int:
    return int(now // window)


def is_fresh(seen_at: int, now: float, window: int) -> bool:
    """Whether a key first seen at `seen_at` still makes a new entry with it a duplicate."""
    return now - seen_at < window


def new_flags(keys: Sequence[bytes], known: set[bytes]) -> list[bool]:
    """For each key, whether it is new: neither known already nor earlier in the same group."""
    seen = set(known)
    flags = []
    for key in keys:
        flags.append(key not in seen)
        seen.add(key)
    return flags


class MemoryDedup:
    """The generations as dictionaries of key -> first-seen second."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._generations: dict[int, dict[bytes, int]] = {}

    def known(self, keys: Iterable[bytes], now: float) -> set[bytes]:
        """The keys among `keys` seen less than a window ago."""
        self._drop_old(now)
        return {key for key in keys if self._is_known(key, now)}

    def _is_known(self, key: bytes, now: float) -> bool:
        seen = (table[key] for table in self._generations.values() if key in table)
        return any(is_fresh(seen_at, now, self.window) for seen_at in seen)

    def remember(self, keys: Iterable[bytes], now: float) -> None:
        current = self._generations.setdefault(generation(now, self.window), {})
        for key in keys:
            current.setdefault(key, int(now))

    def _drop_old(self, now: float) -> None:
        oldest = generation(now, self.window) - 1
        for number in [n for n in self._generations if n < oldest]:
            del self._generations[number]


class SqliteDedup:
    """dedup.db: one `gen_<n>` table per generation, plus the highest log offset applied.

    synchronous=NORMAL: a power loss may lose the last commits, but `applied_offset` goes back
    with them (same transaction) and start-up re-applies the keys of the log records after it.
    """

    def __init__(self, path: Path, window: int) -> None:
        self.path = path
        self.window = window
        self._db: sqlite3.Connection | None = None
        self._tables: set[int] = set()

    def open(self) -> None:
        self._db = connect(self.path, "NORMAL", cache_kib=65536)
        self._db.execute("CREATE TABLE IF NOT EXISTS applied (id INTEGER PRIMARY KEY CHECK (id = 1), offset INTEGER)")
        self._db.execute("INSERT OR IGNORE INTO applied VALUES (1, 0)")
        names = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'gen_*'")
        self._tables = {int(name[4:]) for (name,) in names}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def applied_offset(self) -> int:
        return self._db.execute("SELECT offset FROM applied").fetchone()[0]

    def known(self, keys: Sequence[bytes], now: float) -> set[bytes]:
        """The keys among `keys` seen less than a window ago (chunked `IN` lookups)."""
        oldest = generation(now, self.window) - 1
        found: set[bytes] = set()
        for number in [n for n in self._tables if n >= oldest]:
            for chunk in pow2_chunks(keys):
                sql = f"SELECT key, seen_at FROM gen_{number} WHERE key IN {in_clause(len(chunk))}"
                found.update(key for key, seen_at in self._db.execute(sql, chunk) if is_fresh(seen_at, now, self.window))
        return found

    def remember(self, keys: Sequence[bytes], now: float, applied_offset: int) -> None:
        """Store keys first seen `now` and the log offset they cover, in one transaction."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._insert(keys, now)
            self._db.execute("UPDATE applied SET offset = max(offset, ?)", (applied_offset,))
            self._db.execute("COMMIT")
        except BaseException:
            rollback_quietly(self._db)
            raise
        self._tables.add(generation(now, self.window))
        self._drop_old(now)

    def _insert(self, keys: Sequence[bytes], now: float) -> None:
        number = generation(now, self.window)
        if number not in self._tables:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS gen_{number} (key BLOB PRIMARY KEY, seen_at INTEGER) WITHOUT ROWID")
        seen_at = int(now)
        for chunk in pow2_chunks(keys):
            rows = [(key, seen_at) for key in chunk]
            self._db.execute(f"INSERT OR IGNORE INTO gen_{number} VALUES {values_clause(len(rows), 2)}", flatten(rows))

    def _drop_old(self, now: float) -> None:
        """Drop generations no key of which can still be fresh (once per window)."""
        oldest = generation(now, self.window) - 1
        for number in sorted(n for n in self._tables if n < oldest):
            self._db.execute(f"DROP TABLE IF EXISTS gen_{number}")
            self._tables.discard(number)
