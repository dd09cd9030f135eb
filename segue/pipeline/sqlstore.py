"""The delivery layer's SQL stores (retry queue, statistics): one connection, used from one
thread of their own, on SQLite in the node's data dir or on PostgreSQL shared by every node.

A connector says how to open the connection and begin a write transaction on its engine; the
stores' SQL is written once, with SQLite's `?` placeholders (`QmarkConnection` adapts psycopg).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

from segue.errors import StorageUnavailable
from segue.log.sqlbatch import connect
from segue.store.engine import libpq_conninfo

T = TypeVar("T")


class SqliteConnector:
    """A SQLite file (WAL) with `schema`; `upgrade(db)` brings a file of an older layout up to date."""

    shared = False  # one node's own file
    least = "MIN"  # the two-argument minimum

    def __init__(self, path: Path, synchronous: str, schema: Sequence[str], cache_kib: int = 8192,
                 upgrade: Callable[[sqlite3.Connection], None] | None = None) -> None:
        self.path, self.synchronous, self.schema, self.cache_kib = path, synchronous, schema, cache_kib
        self.upgrade = upgrade
        self.where = str(path)
        self.errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = connect(self.path, self.synchronous, cache_kib=self.cache_kib)
        for statement in self.schema:
            db.execute(statement)
        if self.upgrade is not None:
            self.upgrade(db)
        return db

    def begin(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")  # concurrent writers queue on the busy timeout


class PostgresConnector:
    """A PostgreSQL database (the config store's) with `schema`. Every write transaction takes
    the advisory lock `lock_id` first, so writers of several nodes never interleave."""

    shared = True  # every node's
    least = "LEAST"

    def __init__(self, url: str, schema: Sequence[str], lock_id: int) -> None:
        import psycopg  # the `postgres` extra

        self.conninfo, self.schema, self.lock_id = libpq_conninfo(url), schema, lock_id
        self.where = "on PostgreSQL"
        self.errors = (psycopg.Error,)

    def open(self) -> "QmarkConnection":
        import psycopg

        connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_id,))  # nodes starting together
            for statement in self.schema:
                connection.execute(statement)
        return QmarkConnection(connection)

    def begin(self, db: "QmarkConnection") -> None:
        db.execute("BEGIN")
        db.execute("SELECT pg_advisory_xact_lock(?)", (self.lock_id,))


class QmarkConnection:
    """A psycopg connection taking SQLite's `?` placeholders (the stores' SQL has no other `?`)."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Sequence = ()):
        return self.connection.execute(sql.replace("?", "%s"), parameters)

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        if rows:
            self.connection.cursor().executemany(sql.replace("?", "%s"), rows)

    def close(self) -> None:
        self.connection.close()


class SqlOnOneThread:
    """A store whose every call runs on its own thread, with the connector's connection."""

    what = "the store"  # for error messages: "the retry queue", ...

    def __init__(self, connector: SqliteConnector | PostgresConnector, thread_name: str) -> None:
        self.connector = connector
        self._db = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=thread_name)

    async def _call(self, function: Callable[..., T], *args) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)
        except self.connector.errors as error:
            # The connection may be broken (a server restarted): the next call opens a new one.
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
            raise StorageUnavailable(f"{self.what} {self.connector.where} failed: {error}") from error

    async def _release(self) -> None:
        """Close the connection and end the thread."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _connection(self):
        if self._db is None:
            self._db = self.connector.open()
        return self._db

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except Exception:
                pass  # closing is best effort: the connection may already be gone

    @contextmanager
    def _transaction(self) -> Iterator:
        db = self._connection()
        self.connector.begin(db)
        try:
            yield db
        except BaseException:
            _rollback_quietly(db)
            raise
        db.execute("COMMIT")


def _rollback_quietly(db) -> None:
    try:
        db.execute("ROLLBACK")
    except Exception:
        pass  # the transaction is gone with the connection; the error that got us here stands
