"""The retry queue on PostgreSQL: one table in the config store's database, shared by every
router of a cluster.

Why: a router's own queue (SQLite in its data dir) is lost with its disk, and while it is down
nobody retries what it parked. Here a parked event belongs to its log partition, not to the
router that parked it: whoever holds the partition retries it (`due(..., partitions=...)`), and
holds that user's later events behind it, so per-user order survives a router's death.

The SQL is SqlRetryQueue's. Every write transaction takes one advisory lock first
(sqlstore.PostgresConnector): two routers may briefly both deliver a partition while it changes
hands, and the `head` flags stay right only when parks and promotions of one user do not
interleave.
"""

from __future__ import annotations

import logging
from pathlib import Path

from segue.log.protocol import partition_for
from segue.pipeline.retries import SqliteRetryQueue, SqlRetryQueue, park_again
from segue.pipeline.sqlstore import PostgresConnector

log = logging.getLogger(__name__)
ADOPT_BATCH = 1_000
LOCK_ID = 0x5E6E_0001  # pg_advisory_xact_lock key of the queue's writes (the migrations use 0x5E6E_C0F6)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS parked (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, instance_id TEXT NOT NULL, user_key TEXT NOT NULL,
        log_offset BIGINT NOT NULL, payload BYTEA NOT NULL, received_at_ms BIGINT NOT NULL,
        attempts INTEGER NOT NULL, next_attempt_at DOUBLE PRECISION NOT NULL,
        first_failed_at DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, blocked SMALLINT NOT NULL,
        log_partition INTEGER NOT NULL, detached SMALLINT NOT NULL, head SMALLINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS parked_due ON parked (instance_id, head, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS parked_user ON parked (instance_id, user_key, detached, id)",
)


class PostgresRetryQueue(SqlRetryQueue):
    """The `parked` table of the database at `url` (the config store's, `SEGUE_DATABASE_URL`)."""

    def __init__(self, url: str) -> None:
        super().__init__(PostgresConnector(url, SCHEMA, LOCK_ID))


async def adopt_local_queue(shared: SqlRetryQueue, path: Path, partitions: int) -> int:
    """Move what a node's own queue (the SQLite file at `path`) holds into the shared queue, each
    event in its user's partition of a log of `partitions`: a node whose config store moved to
    PostgreSQL leaves no parked event behind. A crash between the two writes of a batch parks
    it twice, so it may be delivered twice (at least once, never lost)."""
    if not path.exists():
        return 0
    local, moved = SqliteRetryQueue(path), 0
    try:
        while batch := await local.first_parked(ADOPT_BATCH):
            await shared.park([park_again(item, partition_for(item.user_key, partitions)) for item in batch])
            await local.done([item.id for item in batch])
            moved += len(batch)
    finally:
        await local.close()
    if moved:
        log.warning("moved %d parked event(s) from %s to the shared retry queue", moved, path)
    return moved
