"""The RetryQueue contract, run over the memory twin, SQLite and PostgreSQL alike (PostgreSQL
skips when no server answers); then what only the shared PostgreSQL queue does."""

from __future__ import annotations

import random
from dataclasses import astuple

import sqlite3

import pytest

from segue.errors import StorageUnavailable
from segue.pipeline.retries import MemoryRetryQueue, Parked, SqliteRetryQueue
from tests.conftest import free_port
from tests.pipeline.conftest import open_retry_queue
from tests.pipeline.retry_helpers import T0, parked

FAR = T0 + 10**9


async def offsets(queue, now: float = FAR, instance: str = "dst_a", limit: int = 100) -> list[int]:
    return [item.offset for item in await queue.due(instance, now, limit)]


async def test_a_parked_event_comes_back_whole(retry_queue):
    request = parked("u1", 7, at=T0 + 5)
    await retry_queue.park([request])
    [item] = await retry_queue.due("dst_a", T0 + 5, 10)
    assert isinstance(item, Parked) and item.id > 0
    assert astuple(item)[1:] == (*astuple(request), False)


async def test_only_due_events_ordered_by_next_attempt(retry_queue):
    await retry_queue.park([parked("u1", 1, at=T0 + 30), parked("u2", 2, at=T0 + 10), parked("u3", 3, at=T0 + 20),
                            parked("u4", 4, at=T0 + 99)])
    assert await offsets(retry_queue, T0 + 30) == [2, 3, 1]
    assert await offsets(retry_queue, T0 + 30, limit=2) == [2, 3]
    assert await offsets(retry_queue, T0) == []


async def test_a_users_later_events_are_not_due_before_the_oldest_is_done(retry_queue):
    await retry_queue.park([parked("u1", 1, at=T0 + 60), parked("u1", 2, at=T0), parked("u1", 3, at=T0, blocked=True)])
    assert await offsets(retry_queue) == [1]
    assert await offsets(retry_queue, T0 + 59) == []


async def test_done_then_release_user_makes_the_next_event_due_now(retry_queue):
    await retry_queue.park([parked("u1", 1), parked("u1", 2, at=T0 + 3600, blocked=True), parked("u1", 3, at=T0 + 3600, blocked=True)])
    [head] = await retry_queue.due("dst_a", T0, 10)
    await retry_queue.done([head.id])
    assert await offsets(retry_queue, T0 + 1) == []
    await retry_queue.release_user("dst_a", "u1", T0 + 1)
    [second] = await retry_queue.due("dst_a", T0 + 1, 10)
    assert (second.offset, second.next_attempt_at, second.blocked) == (2, T0 + 1, True)


async def test_release_user_never_delays_and_ignores_unknown_users(retry_queue):
    await retry_queue.park([parked("u1", 1, at=T0)])
    await retry_queue.release_user("dst_a", "u1", T0 + 50)
    await retry_queue.release_user("dst_a", "nobody", T0)
    assert (await retry_queue.due("dst_a", T0, 1))[0].next_attempt_at == T0


async def test_waiting_users(retry_queue):
    await retry_queue.park([parked("u1", 1), parked("u1", 2), parked("u2", 3), parked("u9", 4, instance="dst_b")])
    assert await retry_queue.waiting_users("dst_a") == {"u1", "u2"}
    assert await retry_queue.waiting_users("dst_c") == set()


async def test_reschedule(retry_queue):
    await retry_queue.park([parked("u1", 1, blocked=True)])
    [item] = await retry_queue.due("dst_a", T0, 1)
    await retry_queue.reschedule(item.id, T0 + 120, 2, "HTTP 429")
    assert await retry_queue.due("dst_a", T0 + 119, 1) == []
    [again] = await retry_queue.due("dst_a", T0 + 120, 1)
    assert (again.id, again.attempts, again.reason, again.blocked, again.next_attempt_at) == (item.id, 2, "HTTP 429", False, T0 + 120)


async def test_done_of_several_events_of_one_user_at_once(retry_queue):
    await retry_queue.park([parked("u1", offset) for offset in (1, 2, 3)])
    heads = await retry_queue.due("dst_a", FAR, 10)
    ids = [heads[0].id, heads[0].id + 1]  # the head and the one behind it
    await retry_queue.done(ids)
    assert await offsets(retry_queue) == [3]
    await retry_queue.done([])
    await retry_queue.done([10**9])  # unknown: nothing happens


async def test_detach_lets_the_users_later_events_go_on(retry_queue):
    await retry_queue.park([parked("u1", 1, at=T0 + 600), parked("u1", 2, at=T0 + 3600, blocked=True), parked("u1", 3, blocked=True)])
    [head] = await retry_queue.due("dst_a", FAR, 10)
    await retry_queue.detach(head.id)
    await retry_queue.release_user("dst_a", "u1", T0)
    assert await offsets(retry_queue, T0) == [2]
    assert await offsets(retry_queue, T0 + 600) == [2, 1]
    assert [item.detached for item in await retry_queue.due("dst_a", T0 + 600, 10)] == [False, True]
    await retry_queue.done([(await retry_queue.due("dst_a", T0, 1))[0].id])
    assert await offsets(retry_queue, FAR) == [3, 1]  # by next attempt: 3 is due at T0, 1 at T0 + 600
    await retry_queue.detach(head.id)  # twice: no change
    assert await offsets(retry_queue, FAR) == [3, 1]  # by next attempt: 3 is due at T0, 1 at T0 + 600


async def test_a_user_with_only_detached_events_is_not_waiting(retry_queue):
    await retry_queue.park([parked("u1", 1)])
    [head] = await retry_queue.due("dst_a", FAR, 1)
    await retry_queue.detach(head.id)
    assert await retry_queue.waiting_users("dst_a") == set()
    await retry_queue.park([parked("u1", 2)])  # a new event of u1 is its own head
    assert await offsets(retry_queue) == [1, 2]


async def test_count_oldest_and_instances_kept_apart(retry_queue):
    assert (await retry_queue.count("dst_a"), await retry_queue.oldest("dst_a")) == (0, None)
    await retry_queue.park([parked("u1", 5, instance="dst_b"), parked("u1", 6), parked("u2", 7)])
    assert await retry_queue.count("dst_a") == 2
    assert (await retry_queue.oldest("dst_a")).offset == 6
    assert await offsets(retry_queue, instance="dst_b") == [5]


async def test_drop_instance(retry_queue):
    await retry_queue.park([parked("u1", 1), parked("u2", 2), parked("u1", 3, instance="dst_b")])
    assert await retry_queue.drop_instance("dst_a") == 2
    assert await retry_queue.count("dst_a") == 0
    assert await retry_queue.count("dst_b") == 1


async def test_ids_are_never_reused(retry_queue):
    await retry_queue.park([parked("u1", 1)])
    [first] = await retry_queue.due("dst_a", FAR, 1)
    await retry_queue.done([first.id])
    await retry_queue.park([parked("u1", 2)])
    [second] = await retry_queue.due("dst_a", FAR, 1)
    assert second.id > first.id


async def test_sqlite_keeps_everything_across_a_reopen(tmp_path):
    queue = SqliteRetryQueue(tmp_path / "retries.db")
    await queue.park([parked("u1", 1), parked("u1", 2, blocked=True), parked("u2", 3)])
    await queue.close()
    reopened = SqliteRetryQueue(tmp_path / "retries.db")
    assert await offsets(reopened) == [1, 3]
    assert await reopened.count("dst_a") == 3
    await reopened.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_the_sql_queues_agree_with_the_memory_twin_on_a_random_workload(kind, request, tmp_path):
    """The same random operations on both: every answer the same."""
    memory, queue = MemoryRetryQueue(), open_retry_queue(kind, request, tmp_path)
    rng = random.Random(42)
    for step in range(400):
        operation = rng.choice(["park", "park", "due", "done", "reschedule", "release", "detach", "waiting"])
        answers = [await _apply(each, operation, random.Random(step)) for each in (memory, queue)]
        assert answers[0] == answers[1], (step, operation)
    await queue.close()


async def _apply(queue, operation: str, rng: random.Random):
    now = T0 + rng.randrange(100)
    heads = await queue.due("dst_a", FAR, 1000)
    head = rng.choice(heads) if heads else None
    if operation == "park":
        items = [parked(f"u{rng.randrange(5)}", rng.randrange(10**6), at=now, blocked=rng.random() < 0.3) for _ in range(rng.randrange(1, 4))]
        await queue.park(items)
    elif operation == "done" and head:
        await queue.done([head.id])
    elif operation == "reschedule" and head:
        await queue.reschedule(head.id, now + 30, head.attempts + 1, "HTTP 500")
    elif operation == "release":
        await queue.release_user("dst_a", f"u{rng.randrange(5)}", now)
    elif operation == "detach" and head:
        await queue.detach(head.id)
    elif operation == "waiting":
        return await queue.waiting_users("dst_a")
    return [astuple(item) for item in await queue.due("dst_a", now, 1000)], await queue.count("dst_a")


async def test_waiting_users_among_given_users(retry_queue):
    await retry_queue.park([parked("u1", 1), parked("u2", 2), parked("u3", 3, instance="dst_b")])
    assert await retry_queue.waiting_users("dst_a", ["u1", "u3", "u4"]) == {"u1"}
    assert await retry_queue.waiting_users("dst_a", []) == set()


async def test_oldest_is_the_first_parked_even_behind_others(retry_queue):
    await retry_queue.park([parked("u1", 1, at=T0 + 900), parked("u1", 2), parked("u2", 3)])
    assert (await retry_queue.oldest("dst_a")).offset == 1
    [first] = [item for item in await retry_queue.due("dst_a", FAR, 10) if item.offset == 1]
    await retry_queue.done([first.id])
    assert (await retry_queue.oldest("dst_a")).offset == 2  # u1's next event


async def test_close_twice(retry_queue):
    await retry_queue.park([parked("u1", 1)])
    await retry_queue.close()
    await retry_queue.close()


async def test_a_sqlite_file_from_before_partitions_gets_the_column(tmp_path):
    path = tmp_path / "retries.db"
    with sqlite3.connect(path) as old:
        old.execute("""CREATE TABLE parked (
            id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, user_key TEXT NOT NULL,
            log_offset INTEGER NOT NULL, payload BLOB NOT NULL, received_at_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL, next_attempt_at REAL NOT NULL, first_failed_at REAL NOT NULL,
            reason TEXT NOT NULL, blocked INTEGER NOT NULL, detached INTEGER NOT NULL, head INTEGER NOT NULL)""")
        old.execute("INSERT INTO parked (instance_id, user_key, log_offset, payload, received_at_ms, attempts, "
                    "next_attempt_at, first_failed_at, reason, blocked, detached, head) "
                    "VALUES ('dst_a', 'u1', 4, x'7b7d', 0, 1, 0, 0, 'HTTP 503', 0, 0, 1)")
    old.close()
    queue = SqliteRetryQueue(path)
    await queue.park([parked("u2", 5, partition=3)])
    assert [(item.offset, item.partition) for item in await queue.due("dst_a", FAR, 10)] == [(4, 0), (5, 3)]
    await queue.close()


async def test_a_nodes_own_queue_retries_every_partition(tmp_path):
    """What a node parked stays its to retry wherever the partition went (nobody else sees it)."""
    queue = SqliteRetryQueue(tmp_path / "retries.db")
    await queue.park([parked("u1", 1, partition=1), parked("u2", 2, partition=2)])
    assert [item.offset for item in await queue.due("dst_a", FAR, 10, partitions=frozenset({2}))] == [1, 2]
    await queue.close()


# The shared queue (PostgreSQL) -------------------------------------------------------------


@pytest.fixture
async def shared_queues(request, tmp_path):
    """Two routers' queues on one PostgreSQL table."""
    queues = [open_retry_queue("postgres", request, tmp_path) for _ in range(2)]
    yield queues
    for queue in queues:
        await queue.close()


async def test_a_shared_queue_hands_each_router_its_partitions_events(shared_queues):
    router_a, router_b = shared_queues
    await router_a.park([parked("u1", 1, partition=1), parked("u2", 2, partition=2, at=T0 + 5),
                         parked("u3", 3, partition=3)])
    assert await offsets_of(router_b, frozenset({2, 3})) == [3, 2]
    assert await offsets_of(router_b, frozenset()) == []
    assert await offsets_of(router_b, None) == [1, 3, 2]
    assert (await router_b.oldest("dst_a", frozenset({2, 3}))).offset == 2
    assert await router_b.oldest("dst_a", frozenset({9})) is None


async def test_a_router_that_takes_a_partition_over_keeps_its_users_order(shared_queues):
    """Router A parked u1's failed event and the one held behind it, then died: B, now holding
    the partition, sees u1 waiting, retries the head first, and only then the next event."""
    router_a, router_b = shared_queues
    await router_a.park([parked("u1", 1, partition=4), parked("u1", 2, partition=4, blocked=True)])
    await router_a.close()
    assert await router_b.waiting_users("dst_a", ["u1"]) == {"u1"}
    [head] = await router_b.due("dst_a", FAR, 10, partitions=frozenset({4}))
    assert head.offset == 1
    await router_b.done([head.id])
    await router_b.release_user("dst_a", "u1", T0)
    assert await offsets_of(router_b, frozenset({4})) == [2]


async def test_two_routers_parking_for_the_same_users_at_once_leave_one_head_each(shared_queues):
    """While a partition changes hands both routers may park for one user: one head still
    (without the queue's lock, both parks see no head and each makes one)."""
    import asyncio

    router_a, router_b = shared_queues
    users = [f"u{n}" for n in range(300)]
    for round in range(3):
        await asyncio.gather(*(queue.park([parked(user, 1000 * round + 10 * n + side) for n, user in enumerate(users)])
                               for side, queue in enumerate([router_a, router_b])))
    heads = await router_a.due("dst_a", FAR, 10_000)
    assert sorted(head.user_key for head in heads) == sorted(users)
    assert await router_a.count("dst_a") == 1800


async def test_postgresql_out_of_reach_is_a_clear_storage_error():
    from segue.pipeline.retries_postgres import PostgresRetryQueue

    pytest.importorskip("psycopg")
    queue = PostgresRetryQueue(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    with pytest.raises(StorageUnavailable, match="retry queue on PostgreSQL failed"):
        await queue.park([parked("u1", 1)])
    await queue.close()


async def test_the_shared_queue_reconnects_after_losing_its_connection(shared_queues):
    router_a, _ = shared_queues
    await router_a.park([parked("u1", 1)])
    router_a._db.connection.close()  # as when PostgreSQL restarts
    with pytest.raises(StorageUnavailable):
        await router_a.count("dst_a")
    assert await router_a.count("dst_a") == 1


async def offsets_of(queue, partitions) -> list[int]:
    return [item.offset for item in await queue.due("dst_a", FAR, 100, partitions=partitions)]


async def test_a_node_joining_the_shared_queue_brings_what_it_parked(shared_queues, tmp_path):
    from segue.log.protocol import partition_for
    from segue.pipeline.retries_postgres import adopt_local_queue

    shared, _ = shared_queues
    local = SqliteRetryQueue(tmp_path / "own.db")
    await local.park([parked("u1", 1), parked("u1", 2, blocked=True), parked("u2", 3, instance="dst_b")])
    await local.close()
    assert await adopt_local_queue(shared, tmp_path / "own.db", partitions=8) == 3
    moved = await shared.due("dst_a", FAR, 10) + await shared.due("dst_b", FAR, 10)
    assert [(item.offset, item.partition) for item in moved] == [(1, partition_for("u1", 8)), (3, partition_for("u2", 8))]
    assert await shared.count("dst_a") == 2 and await shared.waiting_users("dst_a") == {"u1"}
    reopened = SqliteRetryQueue(tmp_path / "own.db")
    assert await reopened.count("dst_a") == 0
    await reopened.close()
    assert await adopt_local_queue(shared, tmp_path / "none.db", partitions=8) == 0
