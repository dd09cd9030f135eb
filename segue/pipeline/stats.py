"""Event delivery records per destination instance (spec 4.5): counts, latency, failure samples.

The router records on its hot path (`record_*`, synchronous, in memory); `flush()` writes what
collected in one transaction. Counts are kept per instance per minute, so `summary` can
answer for any window (10 min, 24 h, 2 weeks) to the minute; minutes older than RETENTION
are pruned.

Latency (receivedAt -> delivered) is a fixed-bucket histogram per minute: bucket 0 holds
under 1 ms, bucket b holds [1.25**(b-1), 1.25**b) ms. A percentile is reported as its
bucket's geometric middle, within about 12% of the true value, and windows merge exactly.
The last SAMPLES failures per instance are kept whole (what was sent and received, masked).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import orjson

from segue.errors import StorageUnavailable
from segue.log.sqlbatch import close_quietly, connect, rollback_quietly

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


SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counts (instance_id TEXT, minute INTEGER, delivered INTEGER, retried INTEGER, "
    "failed INTEGER, PRIMARY KEY (instance_id, minute)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS filtered (instance_id TEXT, minute INTEGER, reason TEXT, n INTEGER, "
    "PRIMARY KEY (instance_id, minute, reason)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS latency (instance_id TEXT, minute INTEGER, bucket INTEGER, n INTEGER, "
    "PRIMARY KEY (instance_id, minute, bucket)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, instance_id TEXT, at REAL, sample BLOB)",
    "CREATE INDEX IF NOT EXISTS samples_by_instance ON samples (instance_id, id)",
)
UPSERT_COUNTS = ("INSERT INTO counts VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET delivered = delivered + "
                 "excluded.delivered, retried = retried + excluded.retried, failed = failed + excluded.failed")
UPSERT_FILTERED = "INSERT INTO filtered VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n"
UPSERT_LATENCY = "INSERT INTO latency VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n"
TRIM_SAMPLES = ("DELETE FROM samples WHERE instance_id = ? AND id NOT IN "
                f"(SELECT id FROM samples WHERE instance_id = ? ORDER BY id DESC LIMIT {SAMPLES})")


class SqliteStatsStore(_Buffer):
    """stats.db (WAL, synchronous=NORMAL: losing the last second of counts in a power cut is
    acceptable); its reads and writes run on one thread of their own."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.path = path
        self._db = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="segue-stats")
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
        """Flush, then release the file (again: nothing happens)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.flush()
        finally:
            await asyncio.get_running_loop().run_in_executor(self._thread, close_quietly, self._db)
            self._thread.shutdown(wait=True)

    async def _call(self, function: Callable, *args):
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)
        except sqlite3.Error as error:
            raise StorageUnavailable(f"the delivery statistics {self.path} failed: {error}") from error

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

    def _connection(self):
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = connect(self.path, "NORMAL", cache_kib=2048)
            for statement in SCHEMA:
                db.execute(statement)
            self._db = db
        return self._db

    def _write(self, pending: dict[tuple[str, int], DeliveryStats], samples: dict, prune_before: int | None) -> None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            _write_counts(db, pending)
            _write_samples(db, samples)
            if prune_before is not None:
                for table in ("counts", "filtered", "latency"):
                    db.execute(f"DELETE FROM {table} WHERE minute < ?", (prune_before,))
            db.execute("COMMIT")
        except BaseException:
            rollback_quietly(db)
            raise

    def _read(self, instance_id: str, since: float) -> tuple[DeliveryStats, list[dict]]:
        db = self._connection()
        window = (instance_id, first_minute(since))
        where = "WHERE instance_id = ? AND minute >= ?"
        sums = db.execute(f"SELECT TOTAL(delivered), TOTAL(retried), TOTAL(failed) FROM counts {where}", window).fetchone()
        stats = DeliveryStats(*(int(value) for value in sums))
        stats.filtered.update(dict(db.execute(f"SELECT reason, SUM(n) FROM filtered {where} GROUP BY reason", window)))
        stats.latency.update(dict(db.execute(f"SELECT bucket, SUM(n) FROM latency {where} GROUP BY bucket", window)))
        rows = db.execute("SELECT sample FROM samples WHERE instance_id = ? AND at >= ? ORDER BY id DESC LIMIT ?",
                          (instance_id, max(since, -1.0), SAMPLES))
        return stats, [orjson.loads(sample) for (sample,) in rows]

    def _delete(self, instance_id: str) -> None:
        db = self._connection()
        for table in ("counts", "filtered", "latency", "samples"):
            db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))


def _write_counts(db, pending: dict[tuple[str, int], DeliveryStats]) -> None:
    db.executemany(UPSERT_COUNTS, [(*key, s.delivered, s.retried, s.failed) for key, s in pending.items()])
    db.executemany(UPSERT_FILTERED, [(*key, reason, n) for key, s in pending.items() for reason, n in s.filtered.items()])
    db.executemany(UPSERT_LATENCY, [(*key, bucket, n) for key, s in pending.items() for bucket, n in s.latency.items()])


def _write_samples(db, samples: dict[str, deque]) -> None:
    rows = [(instance_id, at, _encoded(sample)) for instance_id, items in samples.items() for at, sample in items]
    db.executemany("INSERT INTO samples (instance_id, at, sample) VALUES (?, ?, ?)", rows)
    for instance_id in samples:
        db.execute(TRIM_SAMPLES, (instance_id, instance_id))


def _encoded(sample: dict) -> bytes:
    """A sample as JSON; whatever it holds (keys of str subclasses, odd values) it never fails, so
    one sample can never stop the statistics from being saved."""
    return orjson.dumps(sample, default=str, option=orjson.OPT_NON_STR_KEYS)
