"""Events waiting for a retry, per destination instance, on disk (a memory twin for tests).

Per-user order: a user's parked events form a queue by park order (`id`). Only its head, the
oldest one, is ever due; the others wait behind it (`blocked` ones were parked only for that
reason and were never sent). When the router finishes or gives up the head it calls `done`,
then `release_user` to make the next one due. `detach` ends the hold early (the head keeps
retrying on its own; its user's later events go on), for when the hold time has passed.

The SQL queues keep a `head` flag per row (1 for each user's oldest attached event and for
detached events) so that `due` reads only heads from an index, however many events wait behind
them. Two share that SQL (`SqlRetryQueue`): SQLite in the node's data dir (synchronous=FULL: the
router acknowledges the event log once an event is parked, so a parked event must survive a
power cut), and PostgreSQL (`retries_postgres.py`), shared by every router of a cluster so that
parked events outlive the router that parked them.

Partitions: a shared queue gives each router only the events of the log partitions it delivers
(`partitions=`), so a partition's parked events move with it. A node's own queue holds only
what that node parked and retries all of it: filtering would strand what a partition that moved
away had parked.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from segue.log.sqlbatch import (
    LOOKUP_CHUNK,
    flatten,
    in_clause,
    pow2_chunks,
    rows_per_statement,
    values_clause,
)
from segue.pipeline.sqlstore import PostgresConnector, SqliteConnector, SqlOnOneThread

Partitions = frozenset[int] | None  # the log partitions a router delivers; None: the whole log


@dataclass(frozen=True)
class ParkRequest:
    """An event to park (the fields of `Parked` but its id)."""

    instance_id: str
    user_key: str
    offset: int  # the event's log offset
    payload: bytes  # the enriched event as JSON
    received_at_ms: int
    attempts: int
    next_attempt_at: float  # epoch seconds
    first_failed_at: float
    reason: str
    blocked: bool = False  # parked only because an earlier event of the user waits; never sent
    partition: int = 0  # the event's log partition (a shared queue hands it to that partition's router)


@dataclass(frozen=True)
class Parked:
    """A parked event."""

    id: int  # increases in park order: a user's events are retried in this order
    instance_id: str
    user_key: str
    offset: int
    payload: bytes
    received_at_ms: int
    attempts: int
    next_attempt_at: float
    first_failed_at: float
    reason: str
    blocked: bool
    partition: int = 0
    detached: bool = False  # no longer holds its user's later events (see `detach`)


class RetryQueue(Protocol):
    async def park(self, items: Sequence[ParkRequest]) -> None:
        """Store the items durably, in one transaction."""

    async def due(self, instance_id: str, now: float, limit: int, partitions: Partitions = None) -> list[Parked]:
        """Heads (each user's oldest event, and detached ones) due by `now`, soonest first;
        a shared queue gives only those of `partitions` (None: all)."""

    async def waiting_users(self, instance_id: str, users: Iterable[str] | None = None) -> set[str]:
        """Users (among `users`, when given) whose later events must wait (they have an attached
        parked event). Pass the users at hand: looking them up is cheaper than listing all."""

    async def done(self, ids: Sequence[int]) -> None:
        """Remove events (delivered or given up); the user's next event becomes its head."""

    async def reschedule(self, id: int, next_attempt_at: float, attempts: int, reason: str) -> None:
        """After a failed attempt: when to try next (also clears `blocked`)."""

    async def release_user(self, instance_id: str, user_key: str, now: float) -> None:
        """Make the user's head due at `now` at the latest (after `done` of the previous head)."""

    async def detach(self, id: int) -> None:
        """Stop holding the user's later events behind this one; it retries on its own."""

    async def count(self, instance_id: str) -> int: ...
    async def oldest(self, instance_id: str, partitions: Partitions = None) -> Parked | None: ...
    async def drop_instance(self, instance_id: str) -> int: ...
    async def close(self) -> None: ...


class MemoryRetryQueue:
    """The in-memory twin (tests): the same answers as SqliteRetryQueue (a node's own queue,
    `partitions` ignored), nothing on disk."""

    def __init__(self) -> None:
        self._rows: dict[int, Parked] = {}  # in id order
        self._ids = itertools.count(1)

    async def park(self, items: Sequence[ParkRequest]) -> None:
        for item in items:
            id = next(self._ids)
            self._rows[id] = Parked(id, *_fields(item)[:-2], blocked=item.blocked, partition=item.partition)

    async def due(self, instance_id: str, now: float, limit: int, partitions: Partitions = None) -> list[Parked]:
        ready = [row for row in self._heads(instance_id) if row.next_attempt_at <= now]
        return sorted(ready, key=lambda row: (row.next_attempt_at, row.id))[:limit]

    async def waiting_users(self, instance_id: str, users: Iterable[str] | None = None) -> set[str]:
        waiting = {row.user_key for row in self._of(instance_id) if not row.detached}
        return waiting if users is None else waiting & set(users)

    async def done(self, ids: Sequence[int]) -> None:
        for id in ids:
            self._rows.pop(id, None)

    async def reschedule(self, id: int, next_attempt_at: float, attempts: int, reason: str) -> None:
        if id in self._rows:
            self._rows[id] = replace(self._rows[id], next_attempt_at=next_attempt_at, attempts=attempts,
                                     reason=reason, blocked=False)

    async def release_user(self, instance_id: str, user_key: str, now: float) -> None:
        head = next((row for row in self._of(instance_id) if row.user_key == user_key and not row.detached), None)
        if head is not None and head.next_attempt_at > now:
            self._rows[head.id] = replace(head, next_attempt_at=now)

    async def detach(self, id: int) -> None:
        if id in self._rows:
            self._rows[id] = replace(self._rows[id], detached=True)

    async def count(self, instance_id: str) -> int:
        return len(self._of(instance_id))

    async def oldest(self, instance_id: str, partitions: Partitions = None) -> Parked | None:
        return next(iter(self._of(instance_id)), None)

    async def drop_instance(self, instance_id: str) -> int:
        ids = [row.id for row in self._of(instance_id)]
        await self.done(ids)
        return len(ids)

    async def close(self) -> None:
        pass

    def _of(self, instance_id: str) -> list[Parked]:
        return [row for row in self._rows.values() if row.instance_id == instance_id]

    def _heads(self, instance_id: str) -> list[Parked]:
        seen: set[str] = set()
        heads = []
        for row in self._of(instance_id):
            if row.detached:
                heads.append(row)
            elif row.user_key not in seen:
                heads.append(row)
                seen.add(row.user_key)
        return heads


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS parked (
        id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, user_key TEXT NOT NULL,
        log_offset INTEGER NOT NULL, payload BLOB NOT NULL, received_at_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL, next_attempt_at REAL NOT NULL, first_failed_at REAL NOT NULL,
        reason TEXT NOT NULL, blocked INTEGER NOT NULL, log_partition INTEGER NOT NULL DEFAULT 0,
        detached INTEGER NOT NULL, head INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS parked_due ON parked (instance_id, head, next_attempt_at)",
    # (instance, user, id) for per-user order, with `detached` before `id` so that a user's head
    # and the waiting users are read from the index alone.
    "CREATE INDEX IF NOT EXISTS parked_user ON parked (instance_id, user_key, detached, id)",
)
# The columns of a ParkRequest, in its field order, then the queue's own.
FIELDS = ("instance_id, user_key, log_offset, payload, received_at_ms, attempts, next_attempt_at, "
          "first_failed_at, reason, blocked, log_partition")
COLUMNS = "id, " + FIELDS + ", detached"
INSERT = f"INSERT INTO parked ({FIELDS}, detached, head) VALUES "
INSERT_WIDTH = 13
HEAD_OF_USER = "SELECT MIN(id) FROM parked WHERE instance_id = ? AND user_key = ? AND detached = 0"


class SqlRetryQueue(SqlOnOneThread):
    """The queue in SQL (sqlstore.py: SQLite or PostgreSQL)."""

    what = "the retry queue"

    def __init__(self, connector: SqliteConnector | PostgresConnector) -> None:
        super().__init__(connector, "segue-retries")
        self._closed = False

    async def park(self, items: Sequence[ParkRequest]) -> None:
        if items:
            await self._call(self._park, items)

    async def due(self, instance_id: str, now: float, limit: int, partitions: Partitions = None) -> list[Parked]:
        among, parameters = self._among(partitions)
        sql = (f"SELECT {COLUMNS} FROM parked WHERE instance_id = ? AND head = 1 AND next_attempt_at <= ?{among} "
               "ORDER BY next_attempt_at, id LIMIT ?")
        return await self._call(self._parked, sql, (instance_id, now, *parameters, limit))

    async def waiting_users(self, instance_id: str, users: Iterable[str] | None = None) -> set[str]:
        if users is not None:
            return await self._call(self._waiting_among, instance_id, set(users))
        sql = "SELECT DISTINCT user_key FROM parked WHERE instance_id = ? AND detached = 0"
        return {user for (user,) in await self._call(self._fetch, sql, (instance_id,))}

    async def done(self, ids: Sequence[int]) -> None:
        if ids:
            await self._call(self._done, list(ids))

    async def reschedule(self, id: int, next_attempt_at: float, attempts: int, reason: str) -> None:
        sql = "UPDATE parked SET next_attempt_at = ?, attempts = ?, reason = ?, blocked = 0 WHERE id = ?"
        await self._call(self._write, sql, (next_attempt_at, attempts, reason, id))

    async def release_user(self, instance_id: str, user_key: str, now: float) -> None:
        sql = f"UPDATE parked SET next_attempt_at = {self.connector.least}(next_attempt_at, ?) WHERE id = ({HEAD_OF_USER})"
        await self._call(self._write, sql, (now, instance_id, user_key))

    async def detach(self, id: int) -> None:
        await self._call(self._detach, id)

    async def count(self, instance_id: str) -> int:
        return (await self._call(self._fetch, "SELECT COUNT(*) FROM parked WHERE instance_id = ?", (instance_id,)))[0][0]

    async def oldest(self, instance_id: str, partitions: Partitions = None) -> Parked | None:
        # The oldest event is always a head (nothing older of its user): read heads only.
        among, parameters = self._among(partitions)
        sql = f"SELECT {COLUMNS} FROM parked WHERE instance_id = ? AND head = 1{among} ORDER BY id LIMIT 1"
        rows = await self._call(self._parked, sql, (instance_id, *parameters))
        return rows[0] if rows else None

    async def drop_instance(self, instance_id: str) -> int:
        return await self._call(self._write, "DELETE FROM parked WHERE instance_id = ?", (instance_id,))

    async def first_parked(self, limit: int) -> list[Parked]:
        """The oldest parked events of every instance, in park order."""
        return await self._call(self._parked, f"SELECT {COLUMNS} FROM parked ORDER BY id LIMIT ?", (limit,))

    async def close(self) -> None:
        """Release the connection (again: nothing happens); the queue cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._release()

    def _among(self, partitions: Partitions) -> tuple[str, tuple]:
        """The WHERE clause (and its parameters) that keeps the given partitions' events: only
        on a shared queue (see the module doc)."""
        if partitions is None or not self.connector.shared:
            return "", ()
        if not partitions:
            return " AND FALSE", ()
        return f" AND log_partition IN {in_clause(len(partitions))}", tuple(sorted(partitions))

    def _fetch(self, sql: str, parameters: tuple) -> list[tuple]:
        return self._connection().execute(sql, parameters).fetchall()

    def _parked(self, sql: str, parameters: tuple) -> list[Parked]:
        return [_row_to_parked(row) for row in self._fetch(sql, parameters)]

    def _waiting_among(self, instance_id: str, users: set[str]) -> set[str]:
        return _waiting(self._connection(), instance_id, users)

    def _write(self, sql: str, parameters: tuple) -> int:
        with self._transaction() as db:
            return db.execute(sql, parameters).rowcount

    def _park(self, items: Sequence[ParkRequest]) -> None:
        with self._transaction() as db:
            waiting = _waiting_pairs(db, items)
            rows = []
            for item in items:
                key = (item.instance_id, item.user_key)
                rows.append((*_fields(item), 0, int(key not in waiting)))
                waiting.add(key)
            for chunk in pow2_chunks(rows, rows_per_statement(INSERT_WIDTH)):
                db.execute(INSERT + values_clause(len(chunk), INSERT_WIDTH), flatten(chunk))

    def _done(self, ids: list[int]) -> None:
        with self._transaction() as db:
            heads: set[tuple[str, str]] = set()
            for chunk in pow2_chunks(ids, LOOKUP_CHUNK):
                where = f"WHERE id IN {in_clause(len(chunk))}"
                heads.update(db.execute(f"SELECT instance_id, user_key FROM parked {where} AND head = 1 AND detached = 0", chunk).fetchall())
                db.execute(f"DELETE FROM parked {where}", chunk)
            for instance_id, user_key in heads:
                _promote(db, instance_id, user_key)

    def _detach(self, id: int) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT instance_id, user_key, head FROM parked WHERE id = ? AND detached = 0", (id,)).fetchone()
            if row is None:
                return
            db.execute("UPDATE parked SET detached = 1, head = 1 WHERE id = ?", (id,))
            if row[2]:
                _promote(db, row[0], row[1])


class SqliteRetryQueue(SqlRetryQueue):
    """One SQLite file in the node's data dir (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        super().__init__(SqliteConnector(path, "FULL", SCHEMA, upgrade=_add_partition_column))
        self.path = path


def _add_partition_column(db: sqlite3.Connection) -> None:
    """A file from before partitions were kept gets the column (its events: partition 0)."""
    if "log_partition" not in {row[1] for row in db.execute("PRAGMA table_info(parked)")}:
        db.execute("ALTER TABLE parked ADD COLUMN log_partition INTEGER NOT NULL DEFAULT 0")


def _waiting(db, instance_id: str, users: set[str]) -> set[str]:
    """The users among `users` that have an attached parked event."""
    found: set[str] = set()
    for chunk in pow2_chunks(sorted(users), LOOKUP_CHUNK):
        sql = f"SELECT DISTINCT user_key FROM parked WHERE instance_id = ? AND detached = 0 AND user_key IN {in_clause(len(chunk))}"
        found.update(user for (user,) in db.execute(sql, (instance_id, *chunk)).fetchall())
    return found


def _waiting_pairs(db, items: Sequence[ParkRequest]) -> set[tuple[str, str]]:
    """The (instance, user) pairs of `items` that already have an attached parked event."""
    users: dict[str, set[str]] = {}
    for item in items:
        users.setdefault(item.instance_id, set()).add(item.user_key)
    return {(instance_id, user) for instance_id, keys in users.items() for user in _waiting(db, instance_id, keys)}


def _promote(db, instance_id: str, user_key: str) -> None:
    """Make the user's oldest attached event its head."""
    db.execute(f"UPDATE parked SET head = 1 WHERE id = ({HEAD_OF_USER})", (instance_id, user_key))


def _fields(item: ParkRequest) -> tuple:
    """The fields of a ParkRequest in order (dataclasses.astuple deep-copies: slow)."""
    return (item.instance_id, item.user_key, item.offset, item.payload, item.received_at_ms, item.attempts,
            item.next_attempt_at, item.first_failed_at, item.reason, int(item.blocked), item.partition)


def _row_to_parked(row: tuple) -> Parked:
    id, *fields, blocked, partition, detached = row
    return Parked(id, *fields, blocked=bool(blocked), partition=partition, detached=bool(detached))


def park_again(item: Parked, partition: int) -> ParkRequest:
    """What parks `item` again elsewhere, in `partition`."""
    return ParkRequest(item.instance_id, item.user_key, item.offset, item.payload, item.received_at_ms, item.attempts,
                       item.next_attempt_at, item.first_failed_at, item.reason, item.blocked, partition)
