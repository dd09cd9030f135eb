"""Routers sharing the log's partitions: the fair share, the merged consumer, the leases, and
two routers on one JetStream stream delivering every event once, in per-user order, also when
one of them dies."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from segue.log.jetstream import JetStreamLog
from segue.log.leases import JetStreamLeases, LocalLeases
from segue.log.memory import MemoryLog
from segue.log.protocol import Entry, partition_for
from segue.pipeline.partitions import PartitionOwnership, PartitionsConsumer, fair_share, rate_share
from segue.pipeline.retries import MemoryRetryQueue
from segue.pipeline.router import Router
from segue.pipeline.stats import MemoryStatsStore
from tests.e2e.test_roles import delete_stream
from tests.log.conftest import NATS_URL, nats_reachable
from tests.pipeline.router_world import eventually

needs_nats = pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")
names = st.lists(st.text("abcdefgh-0123456789", min_size=1, max_size=8), min_size=1, max_size=6, unique=True)


# The fair share ------------------------------------------------------------------------------

@given(partitions=st.integers(1, 64), members=names)
def test_the_shares_cover_every_partition_once_and_none_exceeds_its_quota(partitions, members):
    shares = [fair_share(partitions, members, member) for member in members]
    assert sorted(p for share in shares for p in share) == list(range(partitions))
    quota = -(-partitions // len(members))
    assert all(len(share) <= quota for share in shares)


@given(members=names, newcomer=st.text("xyz", min_size=1, max_size=4))
@hypothesis_settings(max_examples=50)
def test_a_router_joining_takes_partitions_and_moves_few_others(members, newcomer):
    partitions = 32
    before = {member: fair_share(partitions, members, member) for member in members}
    after = {member: fair_share(partitions, [*members, newcomer], member) for member in [*members, newcomer]}
    moved = sum(len(before[member] - after[member]) for member in members)
    assert after[newcomer] and len(after[newcomer]) <= -(-partitions // (len(members) + 1))
    assert moved <= len(after[newcomer]) + partitions // 4  # the newcomer's share, plus some rebalancing


@given(st.integers(1, 64), st.integers(1, 8), st.floats(0.1, 1000))
def test_routers_sharing_the_partitions_stay_within_a_vendors_rate_limit_together(partitions, routers, limit):
    held = [frozenset(range(first, partitions, routers)) for first in range(routers)]
    assert sum(rate_share(limit, share, partitions) for share in held if share) == pytest.approx(limit)
    assert rate_share(limit, None, partitions) == limit  # one node: all of it
    assert rate_share(limit, frozenset(), partitions) == pytest.approx(limit / partitions)  # never unpaced
    assert rate_share(0.0, held[0], partitions) == 0.0  # no documented limit: none


def test_a_member_missing_from_the_list_still_gets_its_share():
    assert fair_share(4, [], "alone") == frozenset(range(4))


# The merged consumer -------------------------------------------------------------------------

async def _memory_log_with(records_per_user: dict[str, int]) -> MemoryLog:
    log = MemoryLog(partitions=4)
    await log.start()
    for round_number in range(max(records_per_user.values())):
        entries = [Entry("src", f"{user}-{round_number}", user, 0, orjson.dumps({"n": round_number}))
                   for user, count in records_per_user.items() if round_number < count]
        await log.append(entries)
    return log


async def test_a_merged_consumer_reads_exactly_its_partitions_in_offset_order():
    users = {f"user-{n}": 5 for n in range(12)}
    log = await _memory_log_with(users)
    mine = {0, 2}
    merged = PartitionsConsumer({p: log.consumer(f"d@{p}", partition=p) for p in mine})
    seen = []
    while batch := await merged.fetch(7, wait=0):
        assert [r.offset for r in batch] == sorted(r.offset for r in batch)
        seen.extend(batch)
        await merged.ack(batch[-1].offset)
    expected = [user for user in users if partition_for(user, 4) in mine]
    assert sorted({r.message_id.rsplit("-", 1)[0] for r in seen}) == sorted(expected)
    assert len(seen) == 5 * len(expected)
    for partition in mine:
        newest = max(r.offset for r in seen if r.partition == partition)
        assert await log.consumer(f"d@{partition}", partition=partition).committed() >= newest  # idle: may move on


async def test_acknowledging_moves_each_partition_only_past_what_it_returned():
    log = await _memory_log_with({f"user-{n}": 3 for n in range(8)})
    merged = PartitionsConsumer({p: log.consumer(f"d@{p}", partition=p) for p in range(4)})
    first = await merged.fetch(100, wait=0)
    await merged.ack(first[len(first) // 2].offset)  # half of what was returned is done
    merged.rewind()
    again = await merged.fetch(100, wait=0)
    done = {r.offset for r in first[: len(first) // 2 + 1]}
    assert {r.offset for r in again} == {r.offset for r in first} - done


async def test_an_idle_partitions_cursor_follows_the_logs_head_so_retention_is_not_held_back():
    log = MemoryLog(partitions=4)
    await log.start()
    busy, idle = partition_for("busy-user", 4), (partition_for("busy-user", 4) + 1) % 4
    offsets = await log.append([Entry("src", f"m{n}", "busy-user", 0, b"{}") for n in range(5)])
    merged = PartitionsConsumer({p: log.consumer(f"i@{p}", partition=p) for p in (busy, idle)}, head=log.head_offset)
    records = await merged.fetch(100, wait=0)
    await merged.ack(records[-1].offset)
    await merged.fetch(100, wait=0)  # the idle partition's next read starts with the head known
    assert await log.consumer(f"i@{idle}", partition=idle).committed() == offsets[-1]
    assert await log.consumer(f"i@{busy}", partition=busy).committed() == offsets[-1]


async def test_an_idle_partition_never_moves_past_a_record_it_has_not_returned():
    log = MemoryLog(partitions=4)
    await log.start()
    quiet_user = next(f"user-{n}" for n in range(100) if partition_for(f"user-{n}", 4) == 1)
    loud_user = next(f"user-{n}" for n in range(100) if partition_for(f"user-{n}", 4) == 0)

    async def stale_head() -> int:  # a head known before the quiet partition's record was appended
        return 1

    await log.append([Entry("src", "loud", loud_user, 0, b"{}")])
    await log.append([Entry("src", "quiet", quiet_user, 0, b"{}")])
    merged = PartitionsConsumer({p: log.consumer(f"q@{p}", partition=p) for p in (0, 1)}, head=stale_head)
    seen = []
    while batch := await merged.fetch(100, wait=0):
        seen.extend(batch)
        await merged.ack(batch[-1].offset)
    assert sorted(r.message_id for r in seen) == ["loud", "quiet"]


async def test_a_merged_consumer_waits_for_the_first_partition_with_news():
    log = MemoryLog(partitions=4)
    await log.start()
    merged = PartitionsConsumer({p: log.consumer(f"w@{p}", partition=p) for p in range(4)})
    waiting = asyncio.ensure_future(merged.fetch(100, wait=5.0))
    await asyncio.sleep(0.05)
    await log.append([Entry("src", "m1", "someone", 0, b"{}")])
    records = await asyncio.wait_for(waiting, 5.0)
    assert [r.message_id for r in records] == ["m1"]
    await merged.close()


async def test_with_no_partitions_a_merged_consumer_only_waits():
    assert await PartitionsConsumer({}).fetch(100, wait=0.01) == []


# Leases --------------------------------------------------------------------------------------

async def test_on_one_node_every_lease_is_granted():
    leases = LocalLeases("solo")
    ownership = PartitionOwnership(leases, 8)
    assert await ownership.rebalance() == frozenset(range(8))


async def _leases(bucket: str, name: str, ttl: float = 1.0) -> JetStreamLeases:
    leases = JetStreamLeases(NATS_URL, bucket, name, ttl=ttl)
    await leases.start()
    return leases


@needs_nats
async def test_a_lease_has_one_holder_and_passes_on_when_its_holder_stops_renewing():
    bucket = f"T{uuid.uuid4().hex[:8]}_leases"
    first, second = await _leases(bucket, "first"), await _leases(bucket, "second")
    assert await first.acquire("job") and not await second.acquire("job")
    assert await first.acquire("job")  # renewing
    started = time.monotonic()
    while not await second.acquire("job"):  # `first` stops renewing: the lease runs out
        await asyncio.sleep(0.1)
    assert time.monotonic() - started >= 0.5
    assert not await first.acquire("job")  # `first` learns it lost the lease
    await second.release("job")
    assert await first.acquire("job")
    await first.close()
    await second.delete_everything()


@needs_nats
async def test_routers_split_the_partitions_and_take_over_a_silent_ones_share():
    bucket = f"T{uuid.uuid4().hex[:8]}_leases"
    a, b = PartitionOwnership(await _leases(bucket, "a"), 8), PartitionOwnership(await _leases(bucket, "b"), 8)
    for _ in range(3):  # a takes everything first, then gives b its share
        held_a = await a.rebalance()
        await a.release_leaving(held_a)
        await b.rebalance()
    assert held_a | b.held == frozenset(range(8)) and not held_a & b.held and len(b.held) == 4
    deadline = time.monotonic() + 10
    while b.held != frozenset(range(8)):  # a falls silent: its member key and leases run out
        assert time.monotonic() < deadline
        await b.rebalance()
        await asyncio.sleep(0.2)
    await a.leases.close()
    await b.leases.delete_everything()


# Two routers on one stream -------------------------------------------------------------------

class Node:
    """One router with its own connection to the stream, as on its own machine."""

    def __init__(self, world, stream: str, name: str) -> None:
        self.world, self.stream, self.name = world, stream, name

    async def start(self) -> "Node":
        settings = self.world.settings
        self.log = JetStreamLog(NATS_URL, partitions=8, stream=self.stream)
        await self.log.start()
        self.leases = JetStreamLeases(NATS_URL, f"{self.stream}_leases", self.name, ttl=1.5)
        await self.leases.start()
        self.router = Router(settings, self.world.store, self.log, self.world.plane.catalog, MemoryRetryQueue(),
                             MemoryStatsStore(), ownership=PartitionOwnership(self.leases, 8))
        await self.router.start()
        return self

    async def stop(self) -> None:
        await self.router.stop()
        await self.leases.close()
        await self.log.close()

    async def die(self) -> None:
        """Like kill -9: stop everything without releasing a lease or saving anything more."""
        for task in [*self.router._background, *self.router._tasks.values()]:
            task.cancel()
        await asyncio.gather(*self.router._background, *self.router._tasks.values(), return_exceptions=True)
        await self.router.http.close()
        await self.router.transports.close()
        await self.leases._nc.close()
        await self.log.close()


async def _send(log: JetStreamLog, source_id: str, users: int, rounds: int, start: int = 0) -> int:
    for round_number in range(start, start + rounds):
        entries = [Entry(source_id, f"u{user}-{round_number}", f"u{user}", int(time.time() * 1000),
                         orjson.dumps({"type": "track", "event": "E", "userId": f"u{user}", "messageId": f"u{user}-{round_number}",
                                       "properties": {"n": round_number}}))
                   for user in range(users)]
        await log.append(entries)
    return users * rounds


def _per_user_order_holds(bodies: list[dict]) -> bool:
    """Each user's events arrive in order; a repeat (at-least-once) only goes back to a point
    already delivered and continues from there."""
    last: dict[str, int] = {}
    for body in bodies:
        user, n = body["userId"], body["properties"]["n"]
        if n > last.get(user, -1) + 1:
            return False
        last[user] = max(last.get(user, -1), n)
    return True


@needs_nats
@pytest.mark.slow
async def test_two_routers_deliver_everything_once_in_order_and_survive_one_dying(world):
    stream = f"T{uuid.uuid4().hex[:8].upper()}"
    hook = world.webhook("/shared")
    a = await Node(world, stream, "router-a").start()
    b = await Node(world, stream, "router-b").start()
    try:
        await eventually(lambda: a.router.partitions and b.router.partitions
                         and not a.router.partitions & b.router.partitions
                         and len(a.router.partitions | b.router.partitions) == 8, timeout=15)
        sent = await _send(a.log, world.source["id"], users=20, rounds=10)
        await eventually(lambda: len(world.server.bodies("/shared")) >= sent, timeout=20)
        bodies = world.server.bodies("/shared")
        assert len(bodies) == sent and len({body["messageId"] for body in bodies}) == sent  # once each
        assert _per_user_order_holds(bodies)

        await asyncio.sleep(0.5)  # b saves its last cursors: nothing it delivered is left unacknowledged
        await b.die()
        sent += await _send(a.log, world.source["id"], users=20, rounds=10, start=10)
        await eventually(lambda: len({body["messageId"] for body in world.server.bodies("/shared")}) == sent, timeout=30)
        assert a.router.partitions == frozenset(range(8))
        assert len(world.server.bodies("/shared")) == sent  # a reads b's partitions from b's cursors
        assert _per_user_order_holds(world.server.bodies("/shared"))
    finally:
        await a.stop()
        await asyncio.to_thread(delete_stream, stream)
    assert hook["id"]


async def _stress_log(backend: str):
    """A started log of 8 partitions."""
    if backend == "jetstream" and not nats_reachable():
        pytest.skip(f"needs a NATS server with JetStream at {NATS_URL}")
    log = MemoryLog(partitions=8) if backend == "memory" else \
        JetStreamLog(NATS_URL, partitions=8, stream=f"T{uuid.uuid4().hex[:8].upper()}")
    await log.start()
    return log


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["memory", "jetstream"])
async def test_reading_merged_partitions_while_appending_restarting_and_rewinding_keeps_each_users_order(backend):
    """What a router's worker does to the log, hard and fast: every record arrives, each user's
    in order; a repeat only goes back to the acknowledged cursor (after a rewind or a restart)."""
    import random

    log = await _stress_log(backend)
    users, rounds = 40, 60

    async def append_all() -> None:
        for n in range(rounds):
            await log.append([Entry("src", f"u{u}-{n}", f"u{u}", 0, orjson.dumps({"u": u, "n": n})) for u in range(users)])
            await asyncio.sleep(0.01)

    def open_merged() -> PartitionsConsumer:
        return PartitionsConsumer({p: log.consumer(f"stress@{p}", partition=p) for p in range(8)}, head=log.head_offset)

    chance = random.Random(7)
    writer = asyncio.ensure_future(append_all())
    merged, last, seen, acked, unacked = open_merged(), {}, set(), {}, []
    try:
        while len(seen) < users * rounds:
            batch = await merged.fetch(200, wait=0.2)
            for record in batch:
                body = orjson.loads(record.payload)
                user, n = body["u"], body["n"]
                assert n <= last.get(user, -1) + 1, f"u{user}: {n} after {last.get(user)}"
                assert n > acked.get(user, -1), f"u{user}: {n} again, after it was acknowledged"
                last[user] = n
                seen.add((user, n))
                unacked.append((user, n, record.offset))
            if unacked and chance.random() < 0.8:  # acknowledges this batch and the ones before it
                await merged.ack(max(offset for _, _, offset in unacked))
                for user, n, _ in unacked:
                    acked[user] = max(acked.get(user, -1), n)
                unacked.clear()
            roll = chance.random()
            if roll < 0.1:  # the router restarts its worker on the same consumers
                await merged.close()
                merged, last = open_merged(), dict(acked)
                unacked.clear()
            elif roll < 0.15:  # the worker's turn failed
                merged.rewind()
                last = dict(acked)
                unacked.clear()
        await writer
    finally:
        writer.cancel()
        await merged.close()
        if backend == "jetstream":
            await log.delete_everything()
        await log.close()


@needs_nats
@pytest.mark.slow
async def test_routers_dying_and_joining_under_load_keep_each_users_order(world):
    stream = f"T{uuid.uuid4().hex[:8].upper()}"
    world.webhook("/load")
    a = await Node(world, stream, "router-a").start()
    b = await Node(world, stream, "router-b").start()
    nodes, sent = [a, b], 0

    async def send_continuously(stop: asyncio.Event) -> None:
        nonlocal sent
        round_number = 0
        while not stop.is_set():
            sent += await _send(a.log, world.source["id"], users=12, rounds=1, start=round_number)
            round_number += 1
            await asyncio.sleep(0.02)

    stop = asyncio.Event()
    sender = asyncio.ensure_future(send_continuously(stop))
    try:
        await asyncio.sleep(1.5)
        await b.die()
        nodes.remove(b)
        await asyncio.sleep(0.5)
        nodes.append(await Node(world, stream, "router-c").start())
        await asyncio.sleep(4)
        stop.set()
        await sender
        await eventually(lambda: len({body["messageId"] for body in world.server.bodies("/load")}) == sent, timeout=30)
        assert _per_user_order_holds(world.server.bodies("/load"))
    finally:
        stop.set()
        for node in nodes:
            await node.stop()
        await asyncio.to_thread(delete_stream, stream)
