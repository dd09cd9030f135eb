"""The RetryQueue contract, run over the memory twin and SQLite alike."""

from __future__ import annotations

import random
from dataclasses import astuple

from segue.pipeline.retries import MemoryRetryQueue, Parked, SqliteRetryQueue
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


async def test_both_backends_agree_on_a_random_workload(tmp_path):
    """The same random operations on both: every answer the same."""
    memory, sqlite = MemoryRetryQueue(), SqliteRetryQueue(tmp_path / "retries.db")
    rng = random.Random(42)
    for step in range(400):
        operation = rng.choice(["park", "park", "due", "done", "reschedule", "release", "detach", "waiting"])
        answers = [await _apply(queue, operation, random.Random(step)) for queue in (memory, sqlite)]
        assert answers[0] == answers[1], (step, operation)
    await sqlite.close()


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
