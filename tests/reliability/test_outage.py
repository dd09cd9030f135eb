"""Outage: a destination down for hours, and a warehouse unreachable for several syncs.

Destinations: a router on the real on-disk stores (SQLite event log, retry queue, statistics)
delivers one source to two webhook instances on local servers; one answers 500 through a
simulated outage, the other stays healthy. The router's clock is simulated: the test moves it in
5-minute steps and after each step waits (a few real polls) until each worker has done what that
moment allows (`DeliveryWorld.settled`). Nothing sleeps for simulated time.

Warehouses: the schedule loop `segue serve` runs per warehouse (`WarehouseSyncer.run`), its clock
simulated, syncs a PostgreSQL warehouse hourly through a TCP forwarder the test closes, opens and
makes drop a commit's reply. The events wait in the SQLite event log meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict

import orjson
import pytest

from segue.config import Settings
from segue.log import open_log
from segue.log.protocol import Entry
from segue.pipeline.warehouse_sync import WarehouseSyncer
from segue.store import Store
from segue.warehouses.naming import schema_name
from tests.clock import FakeClock
from tests.reliability.outage_helpers import (
    HOUR,
    MINUTE,
    POSTGRES,
    DeliveryWorld,
    Forwarder,
    delivery_world,
    expected_ids,
    finished_syncs,
    postgres_or_skip,
    stored_ids,
    wait_until,
    warehouse_events,
)

pytestmark = pytest.mark.slow

STEP = 5 * MINUTE  # how far the simulated clock moves at a time
DRAIN_STEPS = 36  # after recovery, at most 3 simulated hours to deliver the backlog (the longest backoff is 1 h)
LONG_HOLD = 12 * HOUR  # longer than the outages: a user's later events wait behind a failed one throughout


async def advance(world: DeliveryWorld, seconds: float, *instances: dict) -> None:
    """Move the clock and wait until each instance's worker has caught up with the new moment."""
    world.clock.advance(seconds)
    for instance in instances:
        await wait_until(lambda: world.settled(instance["id"]), f"{instance['name']} settled",
                         lambda: world.describe(instance["id"]))


async def send_and_check_healthy(world: DeliveryWorld, users: list[str], label: str, healthy_server) -> list[dict]:
    """Send one event per user; the healthy destination must have them before the clock moves
    again: zero simulated latency, whatever the other destination is going through."""
    before = len(healthy_server.delivered())
    events = await world.send(users, label)
    await wait_until(lambda: len(healthy_server.delivered()) == before + len(users), f"the healthy destination has {label}")
    return events


async def drain(world: DeliveryWorld, done, *instances: dict) -> None:
    """After recovery: move the clock step by step until `done()` (async) holds."""
    for _ in range(DRAIN_STEPS):
        if await done():
            return
        await advance(world, STEP, *instances)
    states = [await world.describe(instance["id"]) for instance in instances]
    assert await done(), f"the backlog was not delivered within {DRAIN_STEPS * STEP / HOUR:.0f} simulated hours: {states}"


def by_user(events: list[dict]) -> dict[str, list[str]]:
    """Each user's messageIds in order."""
    chains: dict[str, list[str]] = defaultdict(list)
    for event in events:
        chains[event["userId"]].append(event["messageId"])
    return dict(chains)


def assert_exactly_once_in_order(delivered: list[dict], sent: list[dict]) -> None:
    counts = Counter(event["messageId"] for event in delivered)
    assert set(counts) == {event["messageId"] for event in sent}, "events lost or unknown events delivered"
    assert max(counts.values()) == 1, f"delivered twice: {[mid for mid, n in counts.items() if n > 1][:5]}"
    assert by_user(delivered) == by_user(sent), "a user's events arrived out of order"


# A destination down for six hours, within the retry window (24 h) -------------------------------------

OUTAGE = 6 * HOUR
USERS = [f"user-{n}" for n in range(6)]
SEND_EVERY = 3  # steps: events arrive every 15 simulated minutes ...
EARLY_STEPS = 3  # ... and at each first step, while the breaker is closed: they wait behind failed ones


async def six_hours_down(world: DeliveryWorld, failing: dict, healthy: dict) -> list[dict]:
    """Events every 15 minutes through a six-hour outage of `failing`; returns them."""
    down_server, up_server = world.servers
    down_server.down = True
    sent: list[dict] = []
    for step in range(int(OUTAGE / STEP)):
        if step < EARLY_STEPS or step % SEND_EVERY == 0:
            sent += await send_and_check_healthy(world, USERS, f"t+{step * 5} min", up_server)
        await advance(world, STEP, failing, healthy)
        if step == EARLY_STEPS:
            assert await world.retries.count(failing["id"]) > len(USERS), "no later event waited behind a failed one"
    down_server.down = False
    return sent


async def test_a_destination_down_for_hours_gets_everything_once_and_in_order_after_it_recovers(tmp_path):
    async with delivery_world(tmp_path, user_hold_seconds=LONG_HOLD) as world:
        (failing, down_server), (healthy, up_server) = world.webhook("failing"), world.webhook("healthy")
        await world.start_router()
        sent = await six_hours_down(world, failing, healthy)

        async def all_delivered() -> bool:
            return len(down_server.delivered()) == len(sent) and await world.retries.count(failing["id"]) == 0

        await drain(world, all_delivered, failing, healthy)
        assert_exactly_once_in_order(down_server.delivered(), sent)
        assert_exactly_once_in_order(up_server.delivered(), sent)
        refused = {mid for mid, answers in down_server.answers.items() if answers[0][1] == 500}
        assert refused == {chain[0] for chain in by_user(sent).values()}, "only each user's first event was tried"
        assert sum(len(answers) - 1 for answers in down_server.answers.values()) > len(USERS), "retries were refused"
        failing_summary, healthy_summary = await world.summary(failing["id"]), await world.summary(healthy["id"])
        assert (failing_summary["delivered"], failing_summary["failed"]) == (len(sent), 0)
        assert (healthy_summary["delivered"], healthy_summary["failed"], healthy_summary["retried"]) == (len(sent), 0, 0)
        # Latency (simulated): the healthy destination's events never waited for the clock to move.
        assert healthy_summary["latencyMs"]["p95"] < 1_000 < HOUR * 1_000 < failing_summary["latencyMs"]["p50"]


# The shared retry queue out of reach (a cluster's PostgreSQL) ---------------------------------------


async def test_the_shared_retry_queue_out_of_reach_pauses_delivery_and_loses_nothing(tmp_path, postgres_url):
    """Retries parked in PostgreSQL; then PostgreSQL goes away while events keep coming: the
    router acknowledges nothing it could not park or check, and once PostgreSQL is back every
    event arrives exactly once, each user's in order."""
    forwarder = Forwarder(POSTGRES)
    await forwarder.open()
    shared_url = postgres_url.replace(f":{POSTGRES[1]}/", f":{forwarder.port}/", 1)
    try:
        async with delivery_world(tmp_path, shared_url, user_hold_seconds=LONG_HOLD) as world:
            failing, server = world.webhook("failing")
            server.down = True
            await world.start_router()
            sent = await world.send(USERS, "before")
            await advance(world, STEP, failing)
            assert await world.retries.count(failing["id"]) == len(USERS)
            cursor = await world.router.workers[failing["id"]].consumer.committed()
            await forwarder.close()  # PostgreSQL out of reach
            sent += await world.send(USERS, "during")
            world.clock.advance(HOUR)
            await asyncio.sleep(2.5)  # the worker's turns fail meanwhile (one a second, real time)
            assert await world.router.workers[failing["id"]].consumer.committed() == cursor, "acknowledged unparked events"
            server.down = False
            await forwarder.open()

            async def all_delivered() -> bool:
                return len(server.delivered()) == len(sent) and await world.retries.count(failing["id"]) == 0

            await drain(world, all_delivered, failing)
            assert_exactly_once_in_order(server.delivered(), sent)
    finally:
        await forwarder.close()


# A destination down for longer than the retry window ------------------------------------------------

WINDOW = 4 * HOUR  # Segment's retry window
EARLY_USERS = [f"early-{n}" for n in range(5)]  # their events fail at the outage's start: past the window at its end
LATE_USERS = [f"late-{n}" for n in range(5)]  # theirs arrive an hour before recovery: well within the window


async def down_past_the_window(world: DeliveryWorld, failing: dict, healthy: dict) -> tuple[list[dict], list[dict]]:
    """Events at the start of a six-hour outage and an hour before its end; returns both."""
    down_server, up_server = world.servers
    down_server.down = True
    early = await send_and_check_healthy(world, EARLY_USERS, "outage start", up_server)
    await wait_until(lambda: world.settled(failing["id"]), "the first attempts were made")
    for _ in range(int(5 * HOUR / STEP)):
        await advance(world, STEP, failing, healthy)
    late = await send_and_check_healthy(world, LATE_USERS, "t+5 h", up_server)
    for _ in range(int(HOUR / STEP)):
        await advance(world, STEP, failing, healthy)
    down_server.down = False
    return early, late


async def test_events_failing_for_longer_than_the_retry_window_are_counted_failed_with_the_reason(tmp_path):
    async with delivery_world(tmp_path, retry_window_seconds=WINDOW, user_hold_seconds=LONG_HOLD) as world:
        (failing, down_server), (healthy, up_server) = world.webhook("failing"), world.webhook("healthy")
        await world.start_router()
        early, late = await down_past_the_window(world, failing, healthy)

        async def nothing_parked() -> bool:
            return await world.retries.count(failing["id"]) == 0 and len(down_server.delivered()) >= len(late)

        await drain(world, nothing_parked, failing, healthy)
        assert_exactly_once_in_order(down_server.delivered(), late)
        assert all(down_server.answers[event["messageId"]][0][1] == 500 for event in early), "early events were tried"
        summary = await world.summary(failing["id"])
        assert (summary["delivered"], summary["failed"]) == (len(late), len(early))
        reasons = {sample["messageId"]: sample["outcome"]["message"] for sample in summary["recentFailures"]}
        assert set(reasons) == {event["messageId"] for event in early}
        for reason in reasons.values():
            assert reason.startswith("gave up after ") and reason.endswith(" attempts: down for maintenance"), reason
        assert_exactly_once_in_order(up_server.delivered(), early + late)


# A warehouse unreachable for several syncs ---------------------------------------------------------

SYNC_INTERVAL = 3600
CHUNK_EVENTS = 40  # small chunks: a sync loads several, so a drop can fall between two of them
EVENTS_PER_HOUR = 90
UNREACHABLE_SYNCS = 3


@pytest.fixture
async def warehouse_world(tmp_path):
    """(store, SQLite event log, source, PostgreSQL connection, schema); the schema is dropped after."""
    connection = postgres_or_skip()
    settings = Settings.load(environ={}, data_dir=tmp_path / "data", log_writer_process=False)
    store = Store.open(settings)
    source = store.create_source(f"Outage {uuid.uuid4().hex[:8]}", "python")  # its own schema per run
    schema = schema_name(source.slug, "postgres")
    event_log = open_log(settings)
    await event_log.start()
    try:
        yield store, event_log, source, connection, schema
    finally:
        await event_log.close()
        store.close()
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.close()


async def append(event_log, source, events: list[dict]) -> list[dict]:
    await event_log.append([Entry(source.id, e["messageId"], e["userId"], 0, orjson.dumps(e)) for e in events])
    return events


async def unreachable_then_dropped(store, event_log, source, syncer, forwarder) -> list[dict]:
    """Syncs while nothing listens, then one whose link drops just after the warehouse commits
    its second chunk (the reply never arrives); returns the events sent."""
    sent: list[dict] = []
    for hour in range(UNREACHABLE_SYNCS):  # the first sync runs at once, then one an hour
        sent += await append(event_log, source, warehouse_events(f"h{hour}", EVENTS_PER_HOUR))
        await finished_syncs(store, syncer.warehouse.id, hour + 1)
        syncer.clock.advance(SYNC_INTERVAL)
    forwarder.lose_commit_reply = 2
    await forwarder.open()
    sent += await append(event_log, source, warehouse_events(f"h{UNREACHABLE_SYNCS}", EVENTS_PER_HOUR))
    await finished_syncs(store, syncer.warehouse.id, UNREACHABLE_SYNCS + 1)
    return sent


def postgres_warehouse(store, source, port: int):
    settings = {"host": "127.0.0.1", "port": port, "database": "test", "user": "postgres"}
    return store.create_warehouse(engine="postgres", name="outage", settings=settings, secrets={}, source_ids=[source.id],
                                  sync_interval_seconds=SYNC_INTERVAL, max_warehouses=None, actor="test")


async def test_a_warehouse_unreachable_for_several_syncs_catches_up_with_nothing_lost_or_doubled(warehouse_world, tmp_path):
    store, event_log, source, connection, schema = warehouse_world
    forwarder = Forwarder(POSTGRES)
    await forwarder.open()
    await forwarder.close()  # a port of our own where nothing listens now: the warehouse is unreachable
    warehouse = postgres_warehouse(store, source, forwarder.port)
    syncer = WarehouseSyncer(warehouse, store, event_log, tmp_path / "data", FakeClock.from_now(), chunk_events=CHUNK_EVENTS,
                             tick_seconds=0.02)
    task = asyncio.create_task(syncer.run())
    try:
        sent = await unreachable_then_dropped(store, event_log, source, syncer, forwarder)
        dropped_rows = len(stored_ids(connection, schema, "tracks"))
        for more in (1, 2):  # the link holds now: one sync catches up, the next finds nothing new
            syncer.clock.advance(SYNC_INTERVAL)
            history = await finished_syncs(store, warehouse.id, UNREACHABLE_SYNCS + 1 + more)
    finally:
        task.cancel()
        await asyncio.wait({task})
        await forwarder.close()

    *unreachable, dropped, caught_up, idle = history
    assert len(unreachable) == UNREACHABLE_SYNCS
    for sync in unreachable:
        refused = f"Ping failed: cannot connect to postgres at 127.0.0.1:{forwarder.port}"
        assert sync.status == "Failure" and sync.error.startswith(refused), sync
    assert (dropped.status, dropped.error.startswith("Load failed:")) == ("Partial", True), dropped
    assert dropped_rows > dropped.rows["tracks"], "the warehouse did not hold more than Segue heard of: no reply was lost"
    assert (caught_up.status, caught_up.error, idle.status, idle.rows) == ("Success", None, "Success", {})
    for table, ids in expected_ids(sent).items():
        stored = stored_ids(connection, schema, table)
        assert len(stored) == len(set(stored)), f"{table}: rows doubled"
        assert set(stored) == ids, f"{table}: {len(ids - set(stored))} missing, {len(set(stored) - ids)} unknown"
