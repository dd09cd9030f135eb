"""kill -9 durability: every acknowledged message survives a crash, and is stored exactly once.

Several client threads send single /v1/track requests, each on its own keep-alive connection.
A request that fails (connection refused or reset while the server is down) is retried with
the same messageId, as Segment's clients do, so a message stored just before a crash but never
acknowledged arrives again after the restart and must be deduplicated.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.e2e_checks import by_message_id

pytestmark = pytest.mark.slow

SENDERS = 4
KILLS = 3
ACKS_BETWEEN_KILLS = 300
PROGRESS_TIMEOUT = 120.0  # a stall guard, not a measurement


class Acks:
    """The messageIds answered 200, shared by the sender threads."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._changed = threading.Condition()

    def add(self, message_id: str) -> None:
        with self._changed:
            self.ids.append(message_id)
            self._changed.notify_all()

    def wait_for_more(self, count: int) -> None:
        with self._changed:
            target = len(self.ids) + count
            if not self._changed.wait_for(lambda: len(self.ids) >= target, PROGRESS_TIMEOUT):
                pytest.fail(f"no progress: {len(self.ids)} acknowledged, waiting for {target}")


class TrackSender(threading.Thread):
    """Sends `track` calls one at a time on one connection until stopped; retries until acknowledged."""

    def __init__(self, url: str, write_key: str, number: int, acks: Acks, stop: threading.Event) -> None:
        super().__init__(name=f"sender-{number}", daemon=True)
        address = urlsplit(url)
        self.host, self.port = address.hostname, address.port
        self.number = number
        self.acks = acks
        self.stop = stop
        self.attempted: set[str] = set()
        self.failures = 0  # attempts that got no 200: connection errors while the server was down
        self.authorization = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        sequence = 0
        while not self.stop.is_set():
            message_id = f"durability-{self.number}-{sequence}"
            self.attempted.add(message_id)
            if self._deliver(message_id, sequence):
                self.acks.add(message_id)
                sequence += 1
            else:
                self.failures += 1
                time.sleep(0.02)  # the server is down or restarting: retry the same message
        if self.connection:
            self.connection.close()

    def _deliver(self, message_id: str, sequence: int) -> bool:
        body = json.dumps({
            "userId": f"user-{sequence % 50}",
            "event": "Durability Probe",
            "messageId": message_id,
            "properties": {"sender": self.number, "sequence": sequence},
        })
        headers = {"Content-Type": "application/json", "Authorization": self.authorization}
        try:
            self.connection = self.connection or http.client.HTTPConnection(self.host, self.port, timeout=10)
            self.connection.request("POST", "/v1/track", body, headers)
            response = self.connection.getresponse()
            response.read()
            return response.status == 200
        except (OSError, http.client.HTTPException):
            if self.connection:
                self.connection.close()
            self.connection = None
            return False


def test_acknowledged_messages_survive_kill_9(live_server):
    source = live_server.create_source("durability", "python")
    acks, stop = Acks(), threading.Event()
    senders = [TrackSender(live_server.url, source["write_key"], n, acks, stop) for n in range(SENDERS)]
    for sender in senders:
        sender.start()

    try:
        for _ in range(KILLS):
            acks.wait_for_more(ACKS_BETWEEN_KILLS)
            live_server.kill()
            live_server.restart()
        acks.wait_for_more(ACKS_BETWEEN_KILLS)
    finally:
        stop.set()
        for sender in senders:
            sender.join()

    print(f"{len(acks.ids)} acknowledged, {sum(sender.failures for sender in senders)} failed attempts retried")
    stored = by_message_id(live_server.events(source["name"]))  # fails on any duplicate
    attempted = set().union(*(sender.attempted for sender in senders))
    missing = [message_id for message_id in acks.ids if message_id not in stored]
    assert missing == [], f"{len(missing)} acknowledged messages lost, e.g. {missing[:5]}"
    assert set(stored) <= attempted
    assert len(acks.ids) >= (KILLS + 1) * ACKS_BETWEEN_KILLS
