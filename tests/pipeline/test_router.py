"""The router and delivery workers against a local scripted destination server."""

from __future__ import annotations

import asyncio

import pytest

from segue.control import OPERATOR
from tests.clock import FakeClock
from tests.pipeline.router_world import eventually, summary_when

pytestmark = pytest.mark.slow


async def test_enabled_instances_get_their_sources_events_in_order(world):
    world.webhook("/a")
    router = world.router()
    await router.start()
    sent = await world.send(*({"event": f"E{n}"} for n in range(20)))
    await world.send({"event": "elsewhere"}, source_id="src_other")
    await eventually(lambda: len(world.server.bodies("/a")) == 20)
    assert [body["messageId"] for body in world.server.bodies("/a")] == [event["messageId"] for event in sent]
    await summary_when(world, world.plane.list_destinations()[0]["id"], lambda s: s["delivered"] == 20)


async def test_disabled_instances_receive_nothing_and_enabling_starts_at_the_head(world):
    hook = world.webhook("/off", enabled=False)
    router = world.router()
    await router.start()
    await world.send({"event": "while disabled"})
    world.plane.update_destination(OPERATOR, hook["id"], enabled=True)
    await eventually(lambda: hook["id"] in router.workers)
    await world.send({"event": "after enabling"})
    await eventually(lambda: len(world.server.bodies("/off")) == 1)
    assert [body["event"] for body in world.server.bodies("/off")] == ["after enabling"]


async def test_events_sent_right_after_enabling_arrive_before_the_router_notices(world):
    hook = world.webhook("/now", enabled=False)
    router = world.router()
    await router.start()
    await world.send({"event": "while disabled"})
    await asyncio.sleep(0.01)  # receivedAt in ms: the change comes strictly after it
    world.plane.update_destination(OPERATOR, hook["id"], enabled=True)
    assert hook["id"] not in router.workers  # sent before the router's next look at the config
    await world.send({"event": "right after enabling"})
    await eventually(lambda: len(world.server.bodies("/now")) == 1)
    await world.send({"event": "later"})
    await eventually(lambda: len(world.server.bodies("/now")) == 2)
    assert [body["event"] for body in world.server.bodies("/now")] == ["right after enabling", "later"]


async def test_the_integrations_object_routes_as_segment_does(world):
    world.webhook("/w")
    router = world.router()
    await router.start()
    cases = [
        ({"All": False, "Mixpanel": True, "Webhooks": True}, True),   # spec vector 6
        ({"All": False, "Mixpanel": True}, False),
        ({"Webhooks": False}, False),
        ({"webhooks": False}, True),                                   # names are case-sensitive
        ({"All": False, "Webhooks": {"option": 1}}, True),             # an options object counts as true
        ({}, True),
    ]
    sent = await world.send(*({"event": f"case {n}", "integrations": value} for n, (value, _) in enumerate(cases)))
    expected = [event["event"] for event, (_, wanted) in zip(sent, cases) if wanted]
    await eventually(lambda: len(world.server.bodies("/w")) == len(expected))
    await world.send({"event": "last"})
    await eventually(lambda: len(world.server.bodies("/w")) == len(expected) + 1)
    assert [body["event"] for body in world.server.bodies("/w")][:-1] == expected
    instance_id = next(iter(router.workers))
    await summary_when(world, instance_id, lambda s: s["filtered"] == {"integrations object": len(cases) - len(expected)})


async def test_retryable_failures_are_retried_until_delivered_once(world):
    world.server.script("/r", [500, 503, {"status": 429, "headers": {"Retry-After": "0"}}, 200])
    hook = world.webhook("/r")
    router = world.router()
    await router.start()
    [event] = await world.send({"event": "flaky"})
    await eventually(lambda: len(world.server.bodies("/r")) == 1)
    assert [r.status for r in world.server.received] == [500, 503, 429, 200]
    assert world.server.bodies("/r")[0]["messageId"] == event["messageId"]
    await summary_when(world, hook["id"], lambda s: (s["delivered"], s["retried"], s["failed"]) == (1, 3, 0))
    assert await world.retries.count(hook["id"]) == 0


async def test_a_permanent_failure_is_counted_with_a_masked_sample(world):
    secret = "topsecret-signing-key-123"
    world.server.script("/bad", [{"status": 400, "body": b'{"message": "field x is invalid"}'}])
    hook = world.webhook("/bad", sharedSecret=secret)
    router = world.router()
    await router.start()
    await world.send({"event": "rejected"}, {"event": "fine"})
    await eventually(lambda: len(world.server.received) == 2)
    summary = await summary_when(world, hook["id"], lambda s: (s["delivered"], s["failed"], s["retried"]) == (1, 1, 0))
    [failure] = summary["recentFailures"]
    assert "field x is invalid" in str(failure) and secret not in str(failure)


async def test_a_retrying_user_holds_back_only_their_own_later_events(world):
    clock = FakeClock.from_now()  # retries become due only when the test moves the clock
    world.server.script("/o", [500])  # user a's first event fails once
    hook = world.webhook("/o")
    router = world.router()
    router.clock = clock
    await router.start()
    await world.send({"userId": "a", "event": "a1"})
    await eventually(lambda: len(world.server.received) == 1)
    await world.send({"userId": "a", "event": "a2"}, {"userId": "b", "event": "b1"}, {"userId": "a", "event": "a3"})
    await eventually(lambda: [body["event"] for body in world.server.bodies("/o")] == ["b1"])
    await eventually_async(lambda: world.retries.count(hook["id"]), 3)  # a1 waits, a2 and a3 behind it
    for _ in range(3):
        clock.advance(60)
        await asyncio.sleep(0.3)
    await eventually(lambda: len(world.server.bodies("/o")) == 4)
    assert [body["event"] for body in world.server.bodies("/o")] == ["b1", "a1", "a2", "a3"]


async def test_timeouts_and_refused_connections_are_retried(world, scripted_server):
    world.server.script("/slow", [{"status": 200, "delay": 1.0}])  # past the 0.5 s timeout
    world.webhook("/slow")
    refused = world.plane.create_destination(OPERATOR, source=world.source["id"], slug="webhook", name="refused",
                                             settings={"url": "http://127.0.0.1:9/nothing"}, enabled=True)
    router = world.router()
    await router.start()
    await world.send({"event": "patience"})
    await eventually(lambda: len(world.server.bodies("/slow")) == 2)  # the slow answer, then the retry
    await summary_when(world, refused["id"], lambda s: s["retried"] >= 1)
    assert await world.retries.count(refused["id"]) == 1


async def test_a_restart_in_the_middle_of_delivery_loses_nothing(world):
    world.server.script("/re", [500] * 3)
    world.webhook("/re")
    first = world.router()
    await first.start()
    sent = await world.send(*({"userId": f"u{n % 3}", "event": f"E{n}"} for n in range(30)))
    await eventually(lambda: len(world.server.received) >= 5)
    await first.stop()
    world.routers.remove(first)
    second = world.router()
    await second.start()
    await eventually(lambda: {b["messageId"] for b in world.server.bodies("/re")} == {e["messageId"] for e in sent})


async def eventually_async(read, expected, timeout: float = 10.0):
    """Wait until `await read()` equals `expected`."""
    for _ in range(int(timeout / 0.02)):
        if await read() == expected:
            return
        await asyncio.sleep(0.02)
    assert await read() == expected



async def test_a_destination_down_for_an_hour_does_not_hold_back_another(world):
    clock = FakeClock.from_now()
    world.server.default = 200
    world.server.script("/down", [503] * 10_000)
    down, healthy = world.webhook("/down"), world.webhook("/up")
    router = world.router()
    router.clock = clock
    await router.start()
    for minute in range(60):  # an hour of simulated time, events arriving every minute
        await world.send(*({"userId": f"u{n}", "event": f"m{minute}-{n}"} for n in range(5)))
        clock.advance(60)
        await eventually(lambda: len(world.server.bodies("/up")) == 5 * (minute + 1), timeout=5)
    await summary_when(world, healthy["id"], lambda s: s["delivered"] == 300)
    await summary_when(world, down["id"], lambda s: s["delivered"] == 0 and s["retried"] >= 5)
    await eventually_async(lambda: world.retries.count(down["id"]), 300)  # the backlog waits, nothing lost


async def test_batching_sends_arrays_and_retries_a_failed_batch_event_by_event(world):
    world.server.script("/batch", [503])  # the first batch fails: its events retry one by one
    hook = world.webhook("/batch", enableBatching=True)
    router = world.router()
    await router.start()
    first = await world.send(*({"userId": f"u{n % 3}", "event": f"first {n}"} for n in range(6)))
    await eventually(lambda: len(world.server.received) >= 1)
    second = await world.send(*({"userId": f"v{n}", "event": f"second {n}"} for n in range(50)))
    expected = {event["messageId"] for event in first + second}

    def delivered() -> set:
        bodies = world.server.bodies("/batch")
        return {item["messageId"] for body in bodies for item in (body if isinstance(body, list) else [body])}

    await eventually(lambda: delivered() == expected)
    arrays = [body for body in world.server.bodies("/batch") if isinstance(body, list)]
    assert any(len(array) > 1 for array in arrays), "events went in batches"
    await summary_when(world, hook["id"], lambda s: s["delivered"] == 56 and s["retried"] >= 6)


async def test_an_event_the_batch_call_refuses_fails_alone_and_the_rest_go_in_a_batch(world):
    """Segment forwarding refuses an event over 32 KB: that one fails with the reason, the
    others of the same batch are delivered."""
    forward = world.plane.create_destination(
        OPERATOR, source=world.source["id"], slug="segment-forwarding", name="forward",
        settings={"host": world.server.url, "writeKey": "downstream-key"}, enabled=True)
    router = world.router()
    await router.start()
    sent = await world.send({"event": "small 1"}, {"event": "huge", "properties": {"blob": "x" * 40_000}},
                            {"event": "small 2"})
    await eventually(lambda: len(world.server.bodies("/v1/batch")) >= 1)
    [body] = world.server.bodies("/v1/batch")
    assert [item["messageId"] for item in body["batch"]] == [sent[0]["messageId"], sent[2]["messageId"]]
    summary = await summary_when(world, forward["id"], lambda s: s["delivered"] == 2 and s["failed"] == 1)
    assert "cannot take this event" in summary["recentFailures"][0]["outcome"]["message"]


async def test_a_stream_destination_is_delivered_through_its_transport(world):
    """The router sends redis:// requests through the transports: events land in the stream."""
    import uuid

    import redis.asyncio as redis

    from tests.pipeline.transports.conftest import require_server

    server = require_server("Redis", 6379)
    stream = f"segue-test:{uuid.uuid4().hex[:8]}"
    world.plane.create_destination(OPERATOR, source=world.source["id"], slug="redis-streams", name="stream",
                                   settings={"redisUrl": f"redis://{server}/0", "streamTemplate": stream},
                                   enabled=True)
    router = world.router()
    await router.start()
    sent = await world.send(*({"userId": f"u{n}", "event": f"e{n}"} for n in range(5)))
    client = redis.Redis.from_url(f"redis://{server}/0")
    try:
        async def stored() -> list:
            return await client.xrange(stream)

        deadline = asyncio.get_running_loop().time() + 10
        while len(await stored()) < 5 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        ids = {fields[b"messageId"].decode() for _, fields in await stored()}
        assert ids == {event["messageId"] for event in sent}
    finally:
        await client.delete(stream)
        await client.aclose()


async def test_a_401_from_an_oauth_destination_renews_the_token_and_tries_once_more(world):
    import dataclasses

    from segue.destinations.contract import OAuth
    from segue.destinations.registry import Catalog

    world.server.script("/oauth", [401, 200, 401, 401])
    hook = world.webhook("/oauth")
    router = world.router()
    webhook = router.catalog.get("webhook")
    oauth_webhook = dataclasses.replace(webhook, oauth=OAuth("https://vendor.test/authorize", "https://vendor.test/token"))
    router.catalog = Catalog([oauth_webhook])
    renewed: list[str] = []

    async def renew(instance_id: str) -> None:
        renewed.append(instance_id)

    router.renew_token = renew
    await router.start()
    await world.send({"event": "renewed"}, {"event": "refused"})
    summary = await summary_when(world, hook["id"], lambda s: s["delivered"] == 1 and s["failed"] == 1)
    statuses = [r.status for r in world.server.received]
    assert renewed == [hook["id"], hook["id"]] and statuses == [401, 200, 401, 401], (renewed, statuses)
    assert summary["recentFailures"][0]["outcome"]["status"] == 401


async def test_changes_made_while_segue_was_down_are_applied_at_start(world):
    """Deleted while down: cursor and parked retries go. Disabled while down: the cursor goes
    (re-enabled later, it starts at the head). Still enabled: kept."""
    world.server.script("/deleted", [500] * 5)
    deleted, disabled, kept = world.webhook("/deleted"), world.webhook("/disabled"), world.webhook("/kept")
    first = world.router()
    await first.start()
    await world.send({"event": "parked"})
    await eventually_async(lambda: world.retries.count(deleted["id"]), 1)
    await first.stop()
    world.routers.remove(first)
    world.plane.delete_destination(OPERATOR, deleted["id"])
    world.plane.update_destination(OPERATOR, disabled["id"], enabled=False)
    await world.router().start()
    names = await world.log.consumer_names()
    assert f"destination:{kept['id']}" in names
    assert f"destination:{deleted['id']}" not in names and f"destination:{disabled['id']}" not in names
    assert await world.retries.count(deleted["id"]) == 0
