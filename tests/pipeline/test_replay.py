"""Replay: archived events of a time range re-sent to a destination instance, through routing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from segue.control import OPERATOR
from segue.errors import ConfigError, NotFound, PlanLimit
from segue.log.protocol import Entry
from segue.pipeline.archive import Archiver
from segue.pipeline.replay import ReplayJobs, replay_rate, run_replay
from segue.spec.timestamps import format_ms
from tests.pipeline.router_world import eventually

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)


async def archive(world, *events: dict, source_id: str | None = None) -> list[dict]:
    """Archive events received at `minute` (default 1) after T0; returns them as stored."""
    stored = []
    for number, fields in enumerate(events):
        received = at(fields.pop("minute", 1))
        event = {"type": "track", "event": "Viewed", "messageId": str(uuid.uuid4()), "userId": f"u{number % 3}",
                 "receivedAt": format_ms(received), "timestamp": format_ms(received), **fields}
        stored.append(event)
        await world.log.append([Entry(source_id or world.source["id"], event["messageId"], event["userId"], received,
                                      orjson.dumps(event))])
    archiver = Archiver(world.log, world.settings.data_dir, retention_days=0, flush_seconds=0)
    await archiver.step(wait=0)
    return stored


@pytest.fixture
def business(world):
    world.plane.set_plan(OPERATOR, "business")
    return world


async def replay(world, hook: dict, start=T0, end=T0 + timedelta(hours=2)):
    target = world.plane.replay_target(OPERATOR, hook["id"], start, end)
    return await run_replay(target, world.settings)


async def test_replay_sends_the_range_to_a_disabled_instance(business):
    world = business
    hook = world.webhook(enabled=False)
    stored = await archive(world, {"minute": 5}, {"minute": 70}, {"minute": 200}, {"minute": 30})
    await archive(world, {"minute": 6}, source_id="another-source")
    report = await replay(world, hook)
    assert (report.status, report.read, report.sent, report.delivered, report.failed) == ("succeeded", 3, 3, 3, 0)
    assert report.progress == 1.0
    received = sorted(world.server.bodies("/hook"), key=lambda body: body["receivedAt"])
    assert [body["messageId"] for body in received] == [stored[0]["messageId"], stored[3]["messageId"], stored[1]["messageId"]]
    assert received[0]["timestamp"] == stored[0]["timestamp"]  # historical timestamps kept


async def test_integrations_are_dropped_and_consent_kept(business):
    world = business
    hook = world.webhook(enabled=False)
    consent = {"consentPreferences": {"Analytics": True}}
    await archive(world, {"integrations": {"All": False}, "context": {"consent": consent}})
    report = await replay(world, hook)
    assert report.delivered == 1
    [body] = world.server.bodies("/hook")
    assert "integrations" not in body
    assert body["context"]["consent"] == consent


async def test_filters_still_apply(business):
    world = business
    hook = world.webhook(enabled=False)
    world.plane.create_filter(OPERATOR, hook["id"], title="No secrets", condition='event = "Secret"',
                              actions=[{"type": "DROP"}])
    await archive(world, {"event": "Secret"}, {"event": "Public"})
    report = await replay(world, hook)
    assert (report.read, report.sent, report.delivered, report.filtered) == (2, 1, 1, 1)
    assert [body["event"] for body in world.server.bodies("/hook")] == ["Public"]


async def test_retryable_answers_are_retried_and_failures_reported(business):
    world = business
    hook = world.webhook(enabled=False)
    world.server.script("/hook", [503, 200, 400])
    stored = await archive(world, {"minute": 1, "userId": "one"}, {"minute": 2, "userId": "one"})
    report = await replay(world, hook)
    assert (report.sent, report.delivered, report.failed, report.status) == (2, 1, 1, "succeeded")
    assert [failure["messageId"] for failure in report.failures] == [stored[1]["messageId"]]


async def test_a_destination_with_a_batch_call_gets_batches_retried_whole(business):
    world = business
    hook = world.webhook("/batch", enabled=False, enableBatching=True)
    world.plane.create_filter(OPERATOR, hook["id"], title="No secrets", condition='event = "Secret"',
                              actions=[{"type": "DROP"}])
    world.server.script("/batch", [503])  # the first batch request: retried, then delivered
    stored = await archive(world, *({"minute": 1 + n, "event": "Secret" if n == 3 else f"Viewed {n}"} for n in range(8)))
    report = await replay(world, hook)
    assert (report.read, report.sent, report.delivered, report.filtered, report.failed) == (8, 7, 7, 1, 0)
    arrays = world.server.bodies("/batch")
    assert all(isinstance(body, list) for body in arrays) and len(arrays) == 1, "one batch, sent once it was taken"
    assert [item["messageId"] for item in arrays[0]] == [event["messageId"] for n, event in enumerate(stored) if n != 3]


async def test_an_event_the_batch_call_refuses_fails_alone_in_a_replay(business):
    world = business
    forward = world.plane.create_destination(
        OPERATOR, source=world.source["id"], slug="segment-forwarding", name="forward",
        settings={"host": world.server.url, "writeKey": "downstream-key"}, enabled=False)
    stored = await archive(world, {"event": "small 1"}, {"event": "huge", "properties": {"blob": "x" * 40_000}},
                           {"event": "small 2"})
    report = await replay(world, forward)
    assert (report.read, report.sent, report.delivered, report.failed) == (3, 2, 2, 1)  # refused before sending
    assert report.failures[0]["messageId"] == stored[1]["messageId"]
    assert "cannot take this event" in report.failures[0]["message"]
    [body] = world.server.bodies("/v1/batch")
    assert [item["messageId"] for item in body["batch"]] == [stored[0]["messageId"], stored[2]["messageId"]]


async def test_a_batch_that_keeps_failing_fails_each_of_its_events(business):
    world = business
    hook = world.webhook("/batch", enabled=False, enableBatching=True)
    world.server.script("/batch", [500] * 10)
    await archive(world, {"minute": 1}, {"minute": 2})
    report = await replay(world, hook)
    assert (report.sent, report.delivered, report.failed, report.status) == (2, 0, 2, "succeeded")
    assert "500" in report.failures[0]["message"]


async def test_replay_needs_the_business_plan_and_a_sensible_range(world):
    hook = world.webhook(enabled=False)
    for plan in ("free", "team"):
        world.plane.set_plan(OPERATOR, plan)
        with pytest.raises(PlanLimit, match="Replay"):
            world.plane.replay_target(OPERATOR, hook["id"], T0, T0 + timedelta(hours=1))
    world.plane.set_plan(OPERATOR, "business")
    with pytest.raises(ConfigError, match="after start"):
        world.plane.replay_target(OPERATOR, hook["id"], T0, T0)


def test_replay_is_paced_by_the_lower_limit(world):
    destination = world.plane.catalog.get("webhook")
    assert replay_rate(destination, world.settings) == world.settings.replay_rate_limit
    assert replay_rate(replace(destination, rate_limit=5.0), world.settings) == 5.0
    assert replay_rate(destination, replace(world.settings, replay_rate_limit=0)) == destination.rate_limit


async def test_jobs_run_in_the_background_and_keep_their_reports(business):
    world = business
    hook = world.webhook(enabled=False)
    await archive(world, {}, {})
    world.plane.replay_jobs = ReplayJobs(world.settings)
    started = world.plane.start_replay(OPERATOR, hook["id"], T0, T0 + timedelta(hours=1))
    assert started["status"] == "running" and started["destinationId"] == hook["id"]

    def finished():
        return world.plane.get_replay(hook["id"], started["id"])["status"] != "running"

    await eventually(finished)
    report = world.plane.get_replay(hook["id"], started["id"])
    assert (report["status"], report["delivered"]) == ("succeeded", 2)
    after_restart = ReplayJobs(world.settings)
    assert after_restart.get(hook["id"], started["id"]) == report
    assert [item["id"] for item in world.plane.list_replays(hook["id"])] == [started["id"]]
    with pytest.raises(NotFound):
        world.plane.get_replay(hook["id"], "nope")


def test_a_replay_cut_short_by_a_restart_reads_as_failed(business):
    jobs = ReplayJobs(business.settings)
    jobs.directory.mkdir(parents=True)
    view = {"id": "abc123", "destinationId": "d1", "status": "running", "startedAt": "2024-05-01T10:00:00.000Z"}
    (jobs.directory / "abc123.json").write_bytes(orjson.dumps(view))
    assert jobs.get("d1", "abc123")["status"] == "failed"
    assert "interrupted" in jobs.get("d1", "abc123")["error"]
