"""Event delivery records per destination instance (spec 4.5): counts, latency, failure samples.

The router records on its hot path (`record_*`, synchronous, in memory); `flush()` writes what
collected in one transaction. Counts are kept per instance per minute, so `summary` can
answer for any window (10 min, 24 h, 2 weeks) to the minute; minutes older than RETENTION
are pruned.

Latency (receivedAt -> delivered) is a fixed-bucket histogram per minute: bucket 0 holds
under 1 ms, bucket b holds [1.25**(b-1), 1.25**b) ms. A percentile is reported as its
bucket's geometric middle, within about 12% of the true value, and windows merge exactly.
The last SAMPLES failures per instance are kept whole (what was sent and received, masked).

Stored in the node's data dir (SQLite), or, when the config store is on PostgreSQL, in its
database, where every router adds its counts and every app node reads them all.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import orjson

from segue.pipeline.sqlstore import PostgresConnector, SqliteConnector, SqlOnOneThread

SAMPLES = 20
RETENTION_MINUTES = 15 * 24 * 60
PRUNE_EVERY_SECONDS = 3600.0
RATIO = 1.25
MAX_BUCKET = 120  # 1.25**120 ms: about 8 years


def latency_bucket(ms: float) -> int:
    return 0 if ms < 1 else min(MAX_BUCKET, 1 + int(math.log(ms) / math.log(RATIO)))


def first_minute(since: float) -> int:
    """The first minute bucket of a window starting at `since` (epoch seconds, or -inf)."""
    return -1 if since == -math.inf else int(since // 60)


def bucket_ms(bucket: int) -> float:
    """The geometric middle of a bucket, in milliseconds."""
    return 0.5 if bucket == 0 else RATIO ** (bucket - 0.5)


@dataclass
class DeliveryStats:
    """One instance's counts (for a minute, or summed over a window)."""

    delivered: int = 0
    retried: int = 0  # retry attempts
    failed: int = 0  # final failures
    filtered: Counter = field(default_factory=Counter)  # reason -> events
    latency: Counter = field(default_factory=Counter)  # histogram bucket -> delivered events

    def add(self, other: DeliveryStats) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.failed += other.failed
        self.filtered.update(other.filtered)
        self.latency.update(other.latency)

    def percentile(self, fraction: float) -> float | None:
        total = sum(self.latency.values())
        if not total:
            return None
        rank, seen = math.ceil(fraction * total), 0
        for bucket in sorted(self.latency):
            seen += self.latency[bucket]
            if seen >= rank:
                return round(bucket_ms(bucket), 1)
        return None  # not reached

    def to_json(self, samples: list[dict]) -> dict:
        """The API's shape: counts, p50/p95 latency, newest failures first."""
        return {
            "delivered": self.delivered, "retried": self.retried, "failed": self.failed,
            "filtered": dict(self.filtered),
            "latencyMs": {"p50": self.percentile(0.5), "p95": self.percentile(0.95)},
            "recentFailures": samples[:SAMPLES],
        }


class StatsStore(Protocol):
    def record_delivered(self, instance_id: str, latency_ms: float, n: int = 1) -> None: ...
    def record_retry(self, instance_id: str, n: int = 1) -> None: ...
    def record_failed(self, instance_id: str, sample: dict | None = None) -> None: ...
    def record_filtered(self, instance_id: str, reason: str, n: int = 1) -> None: ...
    async def flush(self) -> None: ...
    async def summary(self, instance_id: str, since_seconds: float | None = None) -> dict: ...
    async def drop_instance(self, instance_id: str) -> None: ...
    async def close(self) -> None: ...


class _Buffer:
    """What the hot path records, by (instance, minute), and the newest samples per instance."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._pending: dict[tuple[str, int], DeliveryStats] = {}
        self._samples: dict[str, deque[tuple[float, dict]]] = {}

    def record_delivered(self, instance_id: str, latency_ms: float, n: int = 1) -> None:
        stats = self._now(instance_id)
        stats.delivered += n
        stats.latency[latency_bucket(latency_ms)] += n

    def record_retry(self, instance_id: str, n: int = 1) -> None:
        self._now(instance_id).retried += n

    def record_failed(self, instance_id: str, sample: dict | None = None) -> None:
        self._now(instance_id).failed += 1
        if sample is not None:
            self._samples.setdefault(instance_id, deque(maxlen=SAMPLES)).append((self.clock(), sample))

    def record_filtered(self, instance_id: str, reason: str, n: int = 1) -> None:
        self._now(instance_id).filtered[reason] += n

    def _now(self, instance_id: str) -> DeliveryStats:
        key = (instance_id, int(self.clock() // 60))
        stats = self._pending.get(key)
        if stats is None:
            stats = self._pending[key] = DeliveryStats()
        return stats

    def _buffered(self, instance_id: str, since: float) -> tuple[DeliveryStats, list[dict]]:
        """The buffered counts of minutes from `since` on and samples since then, newest first."""
        total, first = DeliveryStats(), first_minute(since)
        for (instance, minute), stats in self._pending.items():
            if instance == instance_id and minute >= first:
                total.add(stats)
        samples = [sample for at, sample in reversed(self._samples.get(instance_id, ())) if at >= since]
        return total, samples

    def _since(self, since_seconds: float | None) -> float:
        return -math.inf if since_seconds is None else self.clock() - since_seconds

    def _forget(self, instance_id: str) -> None:
        self._pending = {key: stats for key, stats in self._pending.items() if key[0] != instance_id}
        self._samples.pop(instance_id, None)


class MemoryStatsStore(_Buffer):
    """The in-memory twin: everything stays in the buffer; flush has nothing to do."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)

    async def flush(self) -> None:
        pass

    async def summary(self, instance_id: str, since_seconds: float | None = None) -> dict:
        stats, samples = self._buffered(instance_id, self._since(since_seconds))
        return stats.to_json(samples)

    async def drop_instance(self, instance_id: str) -> None:
        self._forget(instance_id)

    async def close(self) -> None:
        pass


def _statements(prefix: str, without_rowid: str, samples_schema: tuple[str, ...]) -> dict:
    """The SQL of the statistics, its tables named `prefix` + counts, filtered, latency, samples
    (the last one's schema differs most between engines: given whole)."""
    counts, filtered, latency, samples = (prefix + name for name in ("counts", "filtered", "latency", "samples"))
    return {
        "schema": (
            f"CREATE TABLE IF NOT EXISTS {counts} (instance_id TEXT, minute INTEGER, delivered INTEGER, "
            f"retried INTEGER, failed INTEGER, PRIMARY KEY (instance_id, minute)){without_rowid}",
            f"CREATE TABLE IF NOT EXISTS {filtered} (instance_id TEXT, minute INTEGER, reason TEXT, n INTEGER, "
            f"PRIMARY KEY (instance_id, minute, reason)){without_rowid}",
            f"CREATE TABLE IF NOT EXISTS {latency} (instance_id TEXT, minute INTEGER, bucket INTEGER, n INTEGER, "
            f"PRIMARY KEY (instance_id, minute, bucket)){without_rowid}",
            *samples_schema,
        ),
        "upsert_counts": (f"INSERT INTO {counts} VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance_id, minute) DO UPDATE "
                          f"SET delivered = {counts}.delivered + excluded.delivered, "
                          f"retried = {counts}.retried + excluded.retried, failed = {counts}.failed + excluded.failed"),
        "upsert_filtered": (f"INSERT INTO {filtered} VALUES (?, ?, ?, ?) ON CONFLICT (instance_id, minute, reason) "
                            f"DO UPDATE SET n = {filtered}.n + excluded.n"),
        "upsert_latency": (f"INSERT INTO {latency} VALUES (?, ?, ?, ?) ON CONFLICT (instance_id, minute, bucket) "
                           f"DO UPDATE SET n = {latency}.n + excluded.n"),
        "insert_sample": f"INSERT INTO {samples} (instance_id, at, sample) VALUES (?, ?, ?)",
        "trim_samples": (f"DELETE FROM {samples} WHERE instance_id = ? AND id NOT IN "
                         f"(SELECT id FROM {samples} WHERE instance_id = ? ORDER BY id DESC LIMIT {SAMPLES})"),
        "sums": (f"SELECT COALESCE(SUM(delivered), 0), COALESCE(SUM(retried), 0), COALESCE(SUM(failed), 0) "
                 f"FROM {counts} WHERE instance_id = ? AND minute >= ?"),
        "filtered": f"SELECT reason, SUM(n) FROM {filtered} WHERE instance_id = ? AND minute >= ? GROUP BY reason",
        "latency": f"SELECT bucket, SUM(n) FROM {latency} WHERE instance_id = ? AND minute >= ? GROUP BY bucket",
        "samples": f"SELECT sample FROM {samples} WHERE instance_id = ? AND at >= ? ORDER BY id DESC LIMIT ?",
        "minute_tables": (counts, filtered, latency),
        "tables": (counts, filtered, latency, samples),
    }


class SqlStatsStore(_Buffer, SqlOnOneThread):
    """The statistics in SQL (sqlstore.py: SQLite or PostgreSQL)."""

    what = "the delivery statistics"

    def __init__(self, connector: SqliteConnector | PostgresConnector, sql: dict,
                 clock: Callable[[], float] = time.time) -> None:
        _Buffer.__init__(self, clock)
        SqlOnOneThread.__init__(self, connector, "segue-stats")
        self.sql = sql
        self._closed = False
        self._lock = asyncio.Lock()  # a summary never sees a batch that is half way to disk
        self._pruned_at = -math.inf

    async def flush(self) -> None:
        """Write the buffer in one transaction; on failure it stays buffered for the next flush."""
        async with self._lock:
            pending, samples = self._pending, self._samples
            if not pending and not samples:
                return
            self._pending, self._samples = {}, {}
            write = asyncio.ensure_future(self._call(self._write, pending, samples, self._prune_before()))
            try:
                await asyncio.shield(write)  # cancelled (shutdown): the write still completes
            except asyncio.CancelledError:
                raise
            except Exception:
                self._restore(pending, samples)
                raise

    async def summary(self, instance_id: str, since_seconds: float | None = None) -> dict:
        since = self._since(since_seconds)
        async with self._lock:
            stored, stored_samples = await self._call(self._read, instance_id, since)
            stats, samples = self._buffered(instance_id, since)
        stats.add(stored)
        return stats.to_json(samples + stored_samples)

    async def drop_instance(self, instance_id: str) -> None:
        async with self._lock:
            self._forget(instance_id)
            await self._call(self._delete, instance_id)

    async def close(self) -> None:
        """Flush, then release the connection (again: nothing happens)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.flush()
        finally:
            await self._release()

    def _restore(self, pending: dict, samples: dict) -> None:
        """Put a batch that could not be written back in front of what came since."""
        for key, stats in pending.items():
            self._pending.setdefault(key, DeliveryStats()).add(stats)
        for instance_id, older in samples.items():
            newer = self._samples.get(instance_id, ())
            self._samples[instance_id] = deque([*older, *newer], maxlen=SAMPLES)

    def _prune_before(self) -> int | None:
        if self.clock() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return None
        self._pruned_at = self.clock()
        return int(self.clock() // 60) - RETENTION_MINUTES

    def _write(self, pending: dict[tuple[str, int], DeliveryStats], samples: dict, prune_before: int | None) -> None:
        with self._transaction() as db:
            _write_counts(db, self.sql, pending)
            _write_samples(db, self.sql, samples)
            if prune_before is not None:
                for table in self.sql["minute_tables"]:
                    db.execute(f"DELETE FROM {table} WHERE minute < ?", (prune_before,))

    def _read(self, instance_id: str, since: float) -> tuple[DeliveryStats, list[dict]]:
        db, sql = self._connection(), self.sql
        window = (instance_id, first_minute(since))
        stats = DeliveryStats(*(int(value) for value in db.execute(sql["sums"], window).fetchone()))
        stats.filtered.update({reason: int(n) for reason, n in db.execute(sql["filtered"], window).fetchall()})
        stats.latency.update({bucket: int(n) for bucket, n in db.execute(sql["latency"], window).fetchall()})
        rows = db.execute(sql["samples"], (instance_id, max(since, -1.0), SAMPLES)).fetchall()
        return stats, [orjson.loads(sample) for (sample,) in rows]

    def _delete(self, instance_id: str) -> None:
        with self._transaction() as db:
            for table in self.sql["tables"]:
                db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))


SQLITE_SQL = _statements("", " WITHOUT ROWID", (
    "CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, instance_id TEXT, at REAL, sample BLOB)",
    "CREATE INDEX IF NOT EXISTS samples_by_instance ON samples (instance_id, id)",
))


class SqliteStatsStore(SqlStatsStore):
    """stats.db in the node's data dir (WAL, synchronous=NORMAL: losing the last second of
    counts in a power cut is acceptable)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(SqliteConnector(path, "NORMAL", SQLITE_SQL["schema"], cache_kib=2048), SQLITE_SQL, clock)
        self.path = path


POSTGRES_LOCK_ID = 0x5E6E_0002  # pg_advisory_xact_lock key of the statistics' writes
POSTGRES_SQL = _statements("delivery_", "", (
    "CREATE TABLE IF NOT EXISTS delivery_samples (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "instance_id TEXT, at DOUBLE PRECISION, sample BYTEA)",
    "CREATE INDEX IF NOT EXISTS delivery_samples_by_instance ON delivery_samples (instance_id, id)",
))


class PostgresStatsStore(SqlStatsStore):
    """The `delivery_*` tables of the config store's PostgreSQL database, shared by every node:
    each router adds its counts, and any app node shows them all."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(PostgresConnector(url, POSTGRES_SQL["schema"], POSTGRES_LOCK_ID), POSTGRES_SQL, clock)


def _write_counts(db, sql: dict, pending: dict[tuple[str, int], DeliveryStats]) -> None:
    """Upserts in key order: routers flushing the same minutes at once then lock rows in one order."""
    keyed = sorted(pending.items())
    db.executemany(sql["upsert_counts"], [(*key, s.delivered, s.retried, s.failed) for key, s in keyed])
    db.executemany(sql["upsert_filtered"], sorted((*key, reason, n) for key, s in keyed for reason, n in s.filtered.items()))
    db.executemany(sql["upsert_latency"], sorted((*key, bucket, n) for key, s in keyed for bucket, n in s.latency.items()))


def _write_samples(db, sql: dict, samples: dict[str, deque]) -> None:
    rows = [(instance_id, at, _encoded(sample)) for instance_id, items in samples.items() for at, sample in items]
    db.executemany(sql["insert_sample"], rows)
    for instance_id in samples:
        db.execute(sql["trim_samples"], (instance_id, instance_id))


def _encoded(sample: dict) -> bytes:
    """A sample as JSON; whatever it holds (keys of str subclasses, odd values) it never fails, so
    one sample can never stop the statistics from being saved."""
    return orjson.dumps(sample, default=str, option=orjson.OPT_NON_STR_KEYS)
