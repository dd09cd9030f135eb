"""Cloud mode end to end: Segment's Python client → `segue serve` → a local webhook server.

The destination is created with the CLI while the server runs; events sent with the official
client arrive at the webhook exactly as stored; `segue serve` killed with kill -9 while a
destination is failing loses nothing: after the restart every event is delivered.
"""

from __future__ import annotations

import json
import time

import pytest
from segment.analytics import Client

from tests.pipeline.scripted_server import ScriptedServer

pytestmark = pytest.mark.slow


@pytest.fixture
def hook_server():
    server = ScriptedServer().start()
    yield server
    server.stop()


def connect_webhook(live_server, source: dict, url: str) -> dict:
    output = live_server.cli("destinations", "create", "webhook", "--source", source["id"], "--setting", f"url={url}", "--enable", "--json")
    return json.loads(output)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not delivered in time"
        time.sleep(0.05)


def send(source: dict, live_server, events: int, prefix: str) -> None:
    client = Client(source["write_key"], host=live_server.url, sync_mode=True)
    for n in range(events):
        client.track(f"user-{n % 4}", f"{prefix} {n}", {"n": n})
    client.flush()


def test_events_from_the_official_client_reach_a_webhook(live_server, hook_server):
    source = live_server.create_source("Delivery", "python")
    connect_webhook(live_server, source, hook_server.url + "/segment")
    time.sleep(1.5)  # the running server picks up the new destination within a second
    send(source, live_server, 10, "Delivered")
    wait_for(lambda: len(hook_server.bodies("/segment")) == 10)
    bodies = hook_server.bodies("/segment")
    stored = {event["messageId"]: event for event in live_server.events(source["id"])}
    assert {body["messageId"] for body in bodies} == set(stored)
    for body in bodies:
        assert body == stored[body["messageId"]], "the webhook gets the event as stored"
    for user in range(4):
        mine = [body["properties"]["n"] for body in bodies if body["userId"] == f"user-{user}"]
        assert mine == sorted(mine), "per-user order"


def test_kill_9_while_a_destination_fails_loses_nothing(live_server, hook_server):
    source = live_server.create_source("Crash", "python")
    hook_server.script("/crash", [503] * 6)  # a few failures: retries wait 1 s, 2 s, 4 s... (default backoff)
    connect_webhook(live_server, source, hook_server.url + "/crash")
    time.sleep(1.5)
    send(source, live_server, 30, "Crash")
    wait_for(lambda: len(hook_server.received) >= 5)
    live_server.kill()
    live_server.start()
    wait_for(lambda: {b["event"] for b in hook_server.bodies("/crash")} == {f"Crash {n}" for n in range(30)}, timeout=60)
