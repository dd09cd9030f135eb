"""cursors.db: each registered consumer's durable cursor (the last acknowledged offset).

A new consumer's cursor is 0 (the oldest retained record) or the head, and its cursor pins
every segment until it acknowledges past it. synchronous=FULL: an ack survives power loss.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from segue.log.sqlbatch import close_quietly, connect, connect_read_only


class CursorStore:
    """Register, move and read cursors; safe to call from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        self._db = connect(self.path, "FULL", cache_kib=1024)
        self._db.execute("CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, offset INTEGER NOT NULL)")

    def close(self) -> None:
        with self._lock:
            close_quietly(self._db)
            self._db = None

    def register(self, name: str, start: int = 0) -> int:
        """The cursor of `name`, registering it at `start` if new."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO cursors VALUES (?, ?)", (name, start))
            return self._db.execute("SELECT offset FROM cursors WHERE name = ?", (name,)).fetchone()[0]

    def remove(self, name: str) -> None:
        """Forget a consumer: it no longer holds back retention."""
        with self._lock:
            self._db.execute("DELETE FROM cursors WHERE name = ?", (name,))

    def names(self) -> list[str]:
        """Every registered consumer, by name."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT name FROM cursors ORDER BY name")]

    def all(self) -> dict[str, int]:
        """Every registered consumer's cursor, by name."""
        with self._lock:
            return dict(self._db.execute("SELECT name, offset FROM cursors"))

    def save(self, name: str, offset: int) -> None:
        """Durably move a cursor forward (never back)."""
        with self._lock:
            self._db.execute("UPDATE cursors SET offset = max(offset, ?) WHERE name = ?", (offset, name))

    def minimum(self) -> int | None:
        """The lowest cursor of all registered consumers; None when there is none."""
        with self._lock:
            return self._db.execute("SELECT min(offset) FROM cursors").fetchone()[0]


def read_cursors(path: Path) -> dict[str, int]:
    """The cursors in the file at `path`, read without writing it (another process may own it)."""
    if not path.exists():
        return {}
    connection = connect_read_only(path)
    try:
        return dict(connection.execute("SELECT name, offset FROM cursors"))
    finally:
        close_quietly(connection)
