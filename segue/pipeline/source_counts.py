"""Events received per source per minute: the exact numbers behind the Connections home's counts.

`SourceCounter` follows the event log as consumer `source-counts`, so ingest never waits for it
and duplicates (dropped before the log) are never counted. Each batch it reads is added to its
sources' minutes in `<data dir>/ingest/counts.db` (SQLite) in one transaction together with the
last offset counted; so a restart re-reading unacknowledged records skips what it already
counted, and nothing is lost or counted twice. `received(source_id, since_ms)` sums whole
minutes from the one holding `since_ms`: exact to the minute. Minutes older than RETENTION are
pruned. It starts at the log's oldest retained record, so the first run counts the history the
log still holds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from segue.errors import StorageUnavailable
from segue.log.sqlbatch import close_quietly, connect, rollback_quietly
from segue.tasks import cancel_tasks

log = logging.getLogger(__name__)
COUNTS_CONSUMER = "source-counts"
FETCH_RECORDS = 5_000
IDLE_WAIT_SECONDS = 0.5
MINUTE_MS = 60_000
RETENTION_MINUTES = 2 * 24 * 60
PRUNE_EVERY_SECONDS = 3600.0
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counts (source_id TEXT, minute INTEGER, n INTEGER,"
    " PRIMARY KEY (source_id, minute)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1), counted INTEGER)",
)
UPSERT = "INSERT INTO counts VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n"


def counts_path(data_dir: Path) -> Path:
    return Path(data_dir) / "ingest" / "counts.db"


class SourceCounter:
    """The `source-counts` consumer and the per-minute counts it keeps."""

    def __init__(self, event_log: Any, path: Path, clock: Callable[[], float] = time.time,
                 consumer_name: str = COUNTS_CONSUMER) -> None:
        self.log, self.path, self.clock, self.consumer_name = event_log, path, clock, consumer_name
        self.consumer = None
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="segue-source-counts")
        self._counted: int | None = None  # the last offset counted (read from disk on first use)
        self._task: asyncio.Task | None = None
        self._pruned_at = -math.inf
        self._closed = False

    async def start(self) -> None:
        """Register the consumer (the log must be started) and follow the log in the background."""
        self.consumer = self.log.consumer(self.consumer_name)
        self._task = asyncio.create_task(self._run(), name="source-counts")

    async def stop(self) -> None:
        """Stop following the log and release the file (again: nothing happens)."""
        await cancel_tasks(self._task)
        self._task = None
        if not self._closed:
            self._closed = True
            await asyncio.get_running_loop().run_in_executor(self._thread, close_quietly, self._db)
            self._thread.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a full disk must not stop ingest; the log keeps the records
                log.exception("counting received events failed; retrying shortly")
                self.consumer.rewind()
                await asyncio.sleep(1.0)

    async def step(self, wait: float = IDLE_WAIT_SECONDS) -> int:
        """Count one batch of the log; the number of records newly counted."""
        records = await self.consumer.fetch(FETCH_RECORDS, wait=wait)
        if not records:
            return 0
        if self._counted is None:
            self._counted = await self._call(self._read_progress)
        fresh = [record for record in records if record.offset > self._counted]
        minutes = Counter((record.source_id, record.received_at_ms // MINUTE_MS) for record in fresh)
        last = records[-1].offset
        await self._call(self._write, minutes, last, self._prune_before())
        self._counted = last
        await self.consumer.ack(last)
        return len(fresh)

    def _prune_before(self) -> int | None:
        """The first minute to keep, once an hour; None in between."""
        if self.clock() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return None
        self._pruned_at = self.clock()
        return int(self.clock() * 1000) // MINUTE_MS - RETENTION_MINUTES

    async def received(self, source_id: str, since_ms: float) -> int:
        """Events of `source_id` received in the minutes from the one holding `since_ms` on."""
        return await self._call(self._sum, source_id, int(since_ms) // MINUTE_MS)

    async def _call(self, function: Callable, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)
        except sqlite3.Error as error:
            raise StorageUnavailable(f"the source counts {self.path} failed: {error}") from error

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = connect(self.path, "NORMAL", cache_kib=1024)
            for statement in SCHEMA:
                db.execute(statement)
            self._db = db
        return self._db

    def _read_progress(self) -> int:
        row = self._connection().execute("SELECT counted FROM progress WHERE id = 1").fetchone()
        return row[0] if row else 0

    def _write(self, minutes: Counter, counted: int, prune_before: int | None) -> None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(UPSERT, [(source, minute, n) for (source, minute), n in minutes.items()])
            db.execute("INSERT INTO progress VALUES (1, ?) ON CONFLICT DO UPDATE SET counted = excluded.counted", (counted,))
            if prune_before is not None:
                db.execute("DELETE FROM counts WHERE minute < ?", (prune_before,))
            db.execute("COMMIT")
        except BaseException:
            rollback_quietly(db)
            raise

    def _sum(self, source_id: str, first_minute: int) -> int:
        query = "SELECT TOTAL(n) FROM counts WHERE source_id = ? AND minute >= ?"
        return int(self._connection().execute(query, (source_id, first_minute)).fetchone()[0])
