"""`/destinations/{id}/replays`: Business-plan replays of archived events, run in the background."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest

from segue.control import ControlPlane
from segue.log.memory import MemoryLog
from segue.log.protocol import Entry
from segue.pipeline.archive import Archiver
from segue.pipeline.replay import ReplayJobs
from segue.spec.timestamps import format_ms, parse_ms
from tests.api.helpers import assert_error, data, make_source, make_webhook
from tests.api.test_rules import set_plan

RANGE = {"start": "2024-05-01T10:00:00Z", "end": "2024-05-01T12:00:00Z"}


@pytest.fixture
def plane(store, settings):
    """The control plane as `segue serve` builds it: with the background replay runner."""
    return ControlPlane(store, replay_jobs=ReplayJobs(settings))


def archive(settings, source_id: str, *received_at: str) -> list[str]:
    """Archive one track event per receivedAt; their messageIds."""
    log = MemoryLog()
    ids = []
    for moment in received_at:
        ms = parse_ms(moment, "receivedAt")
        event = {"type": "track", "event": "Viewed", "userId": "u1", "messageId": str(uuid.uuid4()),
                 "receivedAt": format_ms(ms), "integrations": {"All": False}}
        ids.append(event["messageId"])
        asyncio.run(log.append([Entry(source_id, event["messageId"], "u1", ms, orjson.dumps(event))]))
    archiver = Archiver(log, settings.data_dir, retention_days=0, flush_seconds=0)
    asyncio.run(archiver.step(wait=0))
    return ids


def finished(client, path: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while (replay := data(client.get(path), "replay"))["status"] == "running":
        assert time.monotonic() < deadline, replay
        time.sleep(0.02)
    return replay


def test_replay_needs_the_business_plan(owner):
    hook = make_webhook(owner, make_source(owner)["id"])
    for plan in ("free", "team"):
        set_plan(owner, plan)
        assert_error(owner.post(f"/api/v1/destinations/{hook['id']}/replays", json=RANGE), 403, "plan_limit", "Replay")


def test_a_disabled_instance_gets_the_range_replayed(owner, settings, receiver):
    set_plan(owner, "business")
    source = make_source(owner)
    hook = make_webhook(owner, source["id"], url=receiver.url + "/hook")
    assert hook["enabled"] is False
    ids = archive(settings, source["id"], "2024-05-01T10:05:00Z", "2024-05-01T11:30:00Z", "2024-05-01T13:00:00Z")
    path = f"/api/v1/destinations/{hook['id']}/replays"
    started = data(owner.post(path, json=RANGE), "replay", 202)
    assert started["status"] == "running" and started["sourceId"] == source["id"]
    replay = finished(owner, f"{path}/{started['id']}")
    assert (replay["status"], replay["read"], replay["delivered"], replay["failed"]) == ("succeeded", 2, 2, 0)
    bodies = [orjson.loads(body) for _, _, _, body in receiver.received]
    assert [body["messageId"] for body in bodies] == ids[:2]
    assert all("integrations" not in body for body in bodies)  # the original object is dropped
    assert [item["id"] for item in data(owner.get(path), "replays")] == [started["id"]]


def test_bad_requests_get_the_one_error_body(owner, api_client):
    set_plan(owner, "business")
    hook = make_webhook(owner, make_source(owner)["id"])
    path = f"/api/v1/destinations/{hook['id']}/replays"
    assert_error(owner.post(path, json={**RANGE, "end": RANGE["start"]}), 400, "invalid_config", "after start")
    assert_error(owner.post(path, json={**RANGE, "start": "yesterday"}), 400, "invalid_request", "start")
    assert_error(owner.get(f"{path}/nope"), 404, "not_found")
    assert_error(owner.post("/api/v1/destinations/nope/replays", json=RANGE), 404, "not_found")
    assert_error(api_client("read_only").post(path, json=RANGE), 403, "forbidden")
