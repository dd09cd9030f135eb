"""The source counts: every record the log accepted, per source and minute, exactly once."""

from __future__ import annotations

import orjson

from segue.log.memory import MemoryLog
from segue.log.protocol import Entry
from segue.pipeline.source_counts import COUNTS_CONSUMER, SourceCounter

NOW_MS = 1_800_000_000_000
HOUR_MS = 3_600_000


def entry(source_id: str, message_id: str, received_ms: int) -> Entry:
    return Entry(source_id, message_id, "user", received_ms, orjson.dumps({"messageId": message_id}))


async def counter_over(log: MemoryLog, path) -> SourceCounter:
    counter = SourceCounter(log, path, clock=lambda: NOW_MS / 1000)
    counter.consumer = log.consumer(COUNTS_CONSUMER)  # as start() does, without the background task
    return counter


async def test_counts_each_source_per_window_and_never_counts_twice(tmp_path):
    log = MemoryLog()
    await log.start()
    path = tmp_path / "counts.db"
    await log.append([entry("a", "1", NOW_MS - 25 * HOUR_MS), entry("a", "2", NOW_MS - 2 * HOUR_MS),
                      entry("a", "3", NOW_MS - 1000), entry("b", "4", NOW_MS - 1000),
                      entry("a", "3", NOW_MS - 500)])  # a duplicate: the log drops it  # fmt: skip
    counter = await counter_over(log, path)
    assert await counter.step(wait=0) == 4
    assert await counter.received("a", NOW_MS - HOUR_MS) == 1
    assert await counter.received("a", NOW_MS - 24 * HOUR_MS) == 2
    assert await counter.received("b", NOW_MS - 24 * HOUR_MS) == 1
    assert await counter.received("c", NOW_MS - 24 * HOUR_MS) == 0
    await counter.stop()

    again = await counter_over(log, path)
    again.consumer.rewind()
    await log.remove_consumer(COUNTS_CONSUMER)  # as after a crash before the ack: the same records again
    again.consumer = log.consumer(COUNTS_CONSUMER)
    assert await again.step(wait=0) == 0
    await log.append([entry("a", "5", NOW_MS - 10)])
    assert await again.step(wait=0) == 1
    assert await again.received("a", NOW_MS - HOUR_MS) == 2
    await again.stop()
