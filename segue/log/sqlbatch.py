"""Helpers shared by the SQLite modules: connections and multi-row statements.

Why multi-row statements instead of `executemany`: the sqlite3 module releases the GIL around
every `sqlite3_step`, so `executemany` over N rows hands the GIL to the event loop N times, and
a busy event loop can keep the writer waiting up to the switch interval (5 ms) each time. One
`INSERT ... VALUES (...), (...), ...` is one step for many rows. Chunk sizes are powers of two
so that only a handful of distinct statements exist and the statement cache keeps them prepared.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

MAX_PARAMETERS = 8192  # per statement; SQLite allows 32,766
LOOKUP_CHUNK = 256  # keys per `IN (...)`
BUSY_TIMEOUT_MS = 5000


def rows_per_statement(width: int) -> int:
    """The largest power of two of `width`-column rows within MAX_PARAMETERS."""
    return 1 << ((MAX_PARAMETERS // width).bit_length() - 1)


def pow2_chunks(items: Sequence[T], cap: int) -> Iterator[Sequence[T]]:
    """Consecutive slices whose sizes are powers of two, at most `cap` (100 -> 64, 32, 4)."""
    start = 0
    while start < len(items):
        size = min(cap, 1 << ((len(items) - start).bit_length() - 1))
        yield items[start : start + size]
        start += size


@lru_cache(maxsize=64)
def values_clause(rows: int, width: int) -> str:
    """`(?,?),(?,?)...` for `rows` rows of `width` columns."""
    row = "(" + ",".join("?" * width) + ")"
    return ",".join([row] * rows)


@lru_cache(maxsize=64)
def in_clause(count: int) -> str:
    """`(?,?,...)` with `count` placeholders."""
    return "(" + ",".join("?" * count) + ")"


def flatten(rows: Sequence[tuple]) -> list:
    """The parameters of a multi-row statement, row after row."""
    return [value for row in rows for value in row]


def connect(path: Path, synchronous: str, cache_kib: int = 8192) -> sqlite3.Connection:
    """A read-write connection in WAL mode, autocommit (transactions are explicit)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=256)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute(f"PRAGMA cache_size = -{cache_kib}")
    return connection


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; it never writes the database, even from another process."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


def rollback_quietly(connection: sqlite3.Connection | None) -> None:
    """Roll back after a failure; the failure itself is what gets reported."""
    if connection is not None and connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def close_quietly(connection: sqlite3.Connection | None) -> None:
    if connection is not None:
        try:
            connection.close()
        except sqlite3.Error:
            pass


def background_priority() -> None:
    """Thread initializer: run this thread's housekeeping (dedup flushes, checkpoints) after
    the threads and processes that answer requests (Linux niceness is per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not Linux, or not permitted: keep the default priority
        pass
