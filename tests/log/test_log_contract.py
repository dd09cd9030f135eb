"""The EventLog + Consumer contract, run against MemoryLog and SqliteLog alike."""

from __future__ import annotations

import asyncio

import pytest

from segue.log.protocol import partition_for
from tests.log.log_helpers import entries, entry

DAY = 86400


async def test_offsets_start_at_one_and_follow_append_order(open_log):
    log = await open_log()
    assert await log.append(entries(3, "a")) == [1, 2, 3]
    assert await log.append(entries(2, "b")) == [4, 5]
    stored = await log.newest(10)
    assert [(r.offset, r.message_id) for r in stored] == [(1, "a0"), (2, "a1"), (3, "a2"), (4, "b0"), (5, "b1")]


async def test_records_keep_the_entry_fields(open_log):
    log = await open_log()
    await log.append([entry("m1", source_id="src_9", received_at_ms=123, payload=b'{"x":1}')])
    [record] = await log.newest(1)
    assert (record.source_id, record.message_id, record.received_at_ms, record.payload) == ("src_9", "m1", 123, b'{"x":1}')


async def test_partition_comes_from_partition_for_of_the_user_key(open_log):
    log = await open_log(partitions=8)
    users = [f"user-{n}" for n in range(20)]
    await log.append([entry(f"m{n}", user=user) for n, user in enumerate(users)])
    assert [r.partition for r in await log.newest(20)] == [partition_for(user, 8) for user in users]
    assert log.partitions == 8


async def test_empty_append_stores_nothing(open_log):
    log = await open_log()
    assert await log.append([]) == []
    assert await log.newest() == []


async def test_duplicate_within_the_window_is_acknowledged_not_stored(open_log, clock):
    log = await open_log(dedup_window_seconds=DAY)
    assert await log.append([entry("m1"), entry("m2")]) == [1, 2]
    clock.advance(DAY - 1)
    assert await log.append([entry("m2"), entry("m3")]) == [None, 3]
    assert [r.message_id for r in await log.newest()] == ["m1", "m2", "m3"]
    assert (log.stats.stored, log.stats.duplicates) == (3, 1)


async def test_same_message_id_from_another_source_is_not_a_duplicate(open_log):
    log = await open_log()
    assert await log.append([entry("m1", source_id="a"), entry("m1", source_id="b")]) == [1, 2]


async def test_after_the_window_the_same_message_is_stored_again(open_log, clock):
    log = await open_log(dedup_window_seconds=DAY)
    await log.append([entry("m1")])
    clock.advance(DAY)
    assert await log.append([entry("m1")]) == [2]
    clock.advance(DAY - 1)
    assert await log.append([entry("m1")]) == [None]  # the window restarts at the second store


async def test_keys_survive_generation_changes_within_the_window(open_log, clock):
    clock.now = 10 * DAY - 10  # ten seconds before a generation boundary
    log = await open_log(dedup_window_seconds=DAY)
    await log.append([entry("m1")])
    for step in range(3):
        clock.advance(DAY / 4)
        duplicate, fresh = await log.append([entry("m1"), entry(f"x{step}")])
        assert duplicate is None and fresh is not None
    clock.advance(DAY * 3)
    assert (await log.append([entry("m1")]))[0] is not None


async def test_duplicates_inside_one_append_keep_the_first(open_log):
    log = await open_log()
    batch = [entry("m1"), entry("m2"), entry("m1"), entry("m2"), entry("m3")]
    assert await log.append(batch) == [1, 2, None, None, 3]


async def test_concurrent_appends_of_one_message_store_it_once(open_log):
    log = await open_log()
    results = await asyncio.gather(*(log.append([entry("same")]) for _ in range(20)))
    assert sorted(results, key=lambda r: r[0] is None) == [[1]] + [[None]] * 19


async def test_consumers_have_independent_cursors(open_log):
    log = await open_log()
    await log.append(entries(5))
    fast, slow = log.consumer("fast"), log.consumer("slow")
    assert [r.offset for r in await fast.fetch(max_records=4)] == [1, 2, 3, 4]
    await fast.ack(4)
    assert [r.offset for r in await slow.fetch(max_records=2)] == [1, 2]
    assert (await fast.committed(), await slow.committed()) == (4, 0)
    assert [r.offset for r in await fast.fetch()] == [5]
    assert log.consumer("fast") is fast


async def test_cursors_lists_every_registered_consumer_and_what_it_acknowledged(open_log):
    log = await open_log()
    await log.append(entries(5))
    assert await log.cursors() == {}
    await log.consumer("fast").ack(4)
    log.consumer("new")
    await log.consumer("late", start_at_head=True).committed()
    assert await log.cursors() == {"fast": 4, "new": 0, "late": 5}
    await log.remove_consumer("new")
    assert await log.cursors() == {"fast": 4, "late": 5}


async def test_fetch_continues_after_the_last_fetch_and_rewind_goes_back_to_the_cursor(open_log):
    log = await open_log()
    await log.append(entries(6))
    consumer = log.consumer("router")
    assert [r.offset for r in await consumer.fetch(2)] == [1, 2]
    await consumer.ack(2)
    assert [r.offset for r in await consumer.fetch(2)] == [3, 4]
    consumer.rewind()
    assert [r.offset for r in await consumer.fetch(10)] == [3, 4, 5, 6]
    assert await consumer.fetch(10) == []


async def test_ack_never_moves_the_cursor_back(open_log):
    log = await open_log()
    await log.append(entries(3))
    consumer = log.consumer("c")
    await consumer.ack(3)
    await consumer.ack(1)
    assert await consumer.committed() == 3


async def test_fetch_with_wait_wakes_when_an_append_lands(open_log):
    log = await open_log()
    consumer = log.consumer("c")
    waiting = asyncio.create_task(consumer.fetch(wait=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await log.append([entry("m1")])
    records = await asyncio.wait_for(waiting, 2)
    assert [r.message_id for r in records] == ["m1"]


async def test_fetch_with_wait_returns_nothing_on_timeout(open_log):
    log = await open_log()
    consumer = log.consumer("c")
    started = asyncio.get_running_loop().time()
    assert await consumer.fetch(wait=0.05) == []
    assert asyncio.get_running_loop().time() - started >= 0.04


async def test_newest_is_oldest_first_and_filters_by_source(open_log):
    log = await open_log()
    await log.append([entry(f"m{n}", source_id="web" if n % 2 else "app") for n in range(10)])
    assert [r.message_id for r in await log.newest(3)] == ["m7", "m8", "m9"]
    assert [r.message_id for r in await log.newest(3, source_id="web")] == ["m5", "m7", "m9"]
    assert [r.message_id for r in await log.newest(20, source_id="app")] == ["m0", "m2", "m4", "m6", "m8"]
    assert await log.newest(5, source_id="nope") == []


async def test_prune_waits_for_every_consumer_and_for_retention(open_log, clock):
    log = await open_log(segment_max_records=2, retention_min_seconds=3600)
    for pair in range(3):
        await log.append(entries(2, prefix=f"p{pair}-", received_at_ms=int(clock.now * 1000)))
    fast, slow = log.consumer("fast"), log.consumer("slow")
    await fast.ack(6)
    await slow.ack(2)
    assert await log.prune() == 0  # too recent
    clock.advance(3601)
    assert await log.prune() == 2  # offsets 1-2: slow passed them
    assert [r.offset for r in await log.newest(10)] == [3, 4, 5, 6]
    late = log.consumer("late")  # starts at the oldest retained record
    assert [r.offset for r in await late.fetch()] == [3, 4, 5, 6]


async def test_prune_without_consumers_follows_retention_only(open_log, clock):
    log = await open_log(segment_max_records=2, retention_min_seconds=60)
    for pair in range(2):
        await log.append(entries(2, prefix=f"p{pair}-", received_at_ms=int(clock.now * 1000)))
    clock.advance(61)
    assert await log.prune() >= 2  # SQLite keeps the current segment, memory may drop all
    assert await log.append([entry("next")]) == [5]
    assert [r.offset for r in await log.newest(10)][-1] == 5


async def test_a_consumer_started_at_the_head_sees_only_what_comes_next(open_log):
    log = await open_log()
    await log.append(entries(3, "old"))
    fresh = log.consumer("fresh", start_at_head=True)
    assert await fresh.committed() == 3
    assert await fresh.fetch() == []
    await log.append(entries(2, "new"))
    assert [r.message_id for r in await fresh.fetch()] == ["new0", "new1"]
    again = log.consumer("fresh", start_at_head=True)  # already registered: keeps its cursor
    assert again is fresh


async def test_a_removed_consumer_no_longer_holds_back_retention(open_log, clock):
    log = await open_log(segment_max_records=2, retention_min_seconds=60)
    for pair in range(2):
        await log.append(entries(2, prefix=f"p{pair}-", received_at_ms=int(clock.now * 1000)))
    log.consumer("gone")  # cursor 0 pins everything
    clock.advance(61)
    assert await log.prune() == 0
    await log.remove_consumer("gone")
    assert await log.prune() >= 2
    assert await log.consumer("gone").committed() == 0, "a name registered again starts afresh"
    assert "gone" in await log.consumer_names()
    await log.remove_consumer("gone")
    assert "gone" not in await log.consumer_names()


# Partition consumers ---------------------------------------------------------------------------

PARTITIONS = 4


def user_in(partition: int, nth: int = 0) -> str:
    """The nth user key whose records land in `partition` (of PARTITIONS)."""
    users = (f"user-{n}" for n in range(10_000))
    return [user for user in users if partition_for(user, PARTITIONS) == partition][nth]


async def fetch_all(consumer, batch: int = 3) -> list:
    """Every record the consumer has left, in small fetches (so reads resume mid-partition)."""
    records, more = [], await consumer.fetch(batch)
    while more:
        records += more
        more = await consumer.fetch(batch)
    return records


async def test_a_partition_consumer_sees_exactly_its_partitions_records_in_order(open_log):
    log = await open_log(partitions=PARTITIONS)
    users = [user_in(n % PARTITIONS, n // PARTITIONS % 2) for n in range(24)]
    await log.append([entry(f"m{n}", user=user) for n, user in enumerate(users)])
    everything = await log.newest(100)
    for partition in range(PARTITIONS):
        seen = await fetch_all(log.consumer(f"deliver-abc@{partition}", partition=partition))
        assert seen == [r for r in everything if r.partition == partition]
        assert len(seen) == 6


async def test_partition_consumers_have_independent_cursors(open_log):
    log = await open_log(partitions=PARTITIONS)
    await log.append([entry(f"m{n}", user=user_in(n % 2)) for n in range(8)])  # 0: 1,3,5,7; 1: 2,4,6,8
    zero, one = log.consumer("deliver-abc@0", partition=0), log.consumer("deliver-abc@1", partition=1)
    assert [r.offset for r in await zero.fetch(3)] == [1, 3, 5]
    await zero.ack(5)
    assert [r.offset for r in await one.fetch(1)] == [2]
    assert (await zero.committed(), await one.committed()) == (5, 0)
    assert [r.offset for r in await zero.fetch()] == [7]
    assert [r.offset for r in await one.fetch()] == [4, 6, 8]
    assert log.consumer("deliver-abc@0", partition=0) is zero
    assert {"deliver-abc@0", "deliver-abc@1"} <= set(await log.consumer_names())


async def test_a_partition_consumers_name_is_its_own_partition(open_log):
    log = await open_log(partitions=PARTITIONS)
    log.consumer("deliver-abc@2", partition=2)
    with pytest.raises(ValueError):
        log.consumer("deliver-abc@2", partition=3)
    with pytest.raises(ValueError):
        log.consumer("deliver-abc@9", partition=PARTITIONS)


async def test_a_partition_consumer_acks_and_rewinds_like_a_whole_log_one(open_log):
    log = await open_log(partitions=PARTITIONS)
    await log.append([entry(f"m{n}", user=user_in(n % 2)) for n in range(12)])  # partition 1: 2,4,..,12
    consumer = log.consumer("deliver-abc@1", partition=1)
    assert [r.offset for r in await consumer.fetch(2)] == [2, 4]
    await consumer.ack(4)
    assert [r.offset for r in await consumer.fetch(2)] == [6, 8]
    consumer.rewind()
    assert [r.offset for r in await consumer.fetch(10)] == [6, 8, 10, 12]
    assert await consumer.fetch(10) == []
    await consumer.ack(1)
    assert await consumer.committed() == 4, "an ack never moves the cursor back"


async def test_a_partition_consumer_resumes_after_its_cursor_on_restart(open_log, reopen_log):
    log = await open_log(partitions=PARTITIONS)
    await log.append([entry(f"m{n}", user=user_in(n % 2)) for n in range(8)])
    consumer = log.consumer("deliver-abc@0", partition=0)
    assert [r.offset for r in await consumer.fetch(3)] == [1, 3, 5]
    await consumer.ack(3)
    reopened = await reopen_log(log, partitions=PARTITIONS)
    again = reopened.consumer("deliver-abc@0", partition=0)
    assert await again.committed() == 3
    assert [r.offset for r in await again.fetch()] == [5, 7]


async def test_a_partition_consumer_started_at_the_head_sees_only_what_comes_next(open_log):
    log = await open_log(partitions=PARTITIONS)
    await log.append([entry(f"old{n}", user=user_in(n % 2)) for n in range(4)])
    fresh = log.consumer("deliver-abc@1", start_at_head=True, partition=1)
    assert await fresh.committed() == 4
    assert await fresh.fetch() == []
    await log.append([entry(f"new{n}", user=user_in(n % 2)) for n in range(4)])
    assert [r.message_id for r in await fresh.fetch()] == ["new1", "new3"]


async def test_a_waiting_partition_consumer_wakes_for_its_own_partition_only(open_log):
    log = await open_log(partitions=PARTITIONS)
    consumer = log.consumer("deliver-abc@0", partition=0)
    waiting = asyncio.create_task(consumer.fetch(wait=5))
    await log.append([entry("other", user=user_in(1))])
    await asyncio.sleep(0.1)
    assert not waiting.done(), "a record of another partition is no reason to return"
    await log.append([entry("mine", user=user_in(0))])
    assert [r.message_id for r in await asyncio.wait_for(waiting, 2)] == ["mine"]


async def test_prune_keeps_every_record_a_partition_consumer_has_not_acked(open_log, clock):
    log = await open_log(partitions=PARTITIONS, segment_max_records=2, retention_min_seconds=60)
    at = int(clock.now * 1000)
    await log.append([entry(f"m{n}", user=user_in(n % 2), received_at_ms=at) for n in range(8)])
    zero = log.consumer("deliver-abc@0", partition=0)
    await zero.ack(3)  # partition 0's records 1 and 3 are done; 5 and 7 are not
    clock.advance(61)
    assert await log.prune() <= 3
    assert [r.offset for r in await zero.fetch()] == [5, 7]


async def test_a_cancelled_fetch_skips_nothing(open_log):
    """Readers that cancel fetches (several partitions read as one) must lose no record: what a
    cancelled fetch had received comes with a later fetch, in order."""
    log = await open_log(partitions=PARTITIONS)
    await log.append([entry(f"m{n}", user=user_in(n % 2)) for n in range(60)])
    for name, partition in (("whole", None), ("deliver-abc@0", 0)):
        consumer = log.consumer(name, partition=partition)
        seen = await consumer.fetch(2)  # JetStream: the reader exists; the cuts below fall in reads
        for delay in range(12):  # cancel at different points of the fetch (at once, then later)
            fetching = asyncio.ensure_future(consumer.fetch(2))
            await asyncio.sleep(delay / 2000)
            fetching.cancel()
            try:
                seen += await fetching
            except asyncio.CancelledError:
                pass
        seen += await fetch_all(consumer)
        expected = [r.offset for r in await log.newest(100) if partition in (None, r.partition)]
        assert [r.offset for r in seen] == expected


async def test_a_rewind_while_a_fetch_waits_makes_that_fetch_hand_out_nothing(open_log):
    """A read cut short may still return (asyncio can hand a cancelled wait its result): a
    rewind must win over it, or the consumer would go on after records it never delivered."""
    log = await open_log()
    await log.append(entries(2))
    consumer = log.consumer("c")
    assert [r.offset for r in await consumer.fetch(10)] == [1, 2]
    waiting = asyncio.ensure_future(consumer.fetch(10, wait=5))
    await asyncio.sleep(0.05)
    consumer.rewind()
    await log.append(entries(1, "late"))
    assert await asyncio.wait_for(waiting, 5) == []
    assert [r.offset for r in await consumer.fetch(10)] == [1, 2, 3]
