"""Disk pressure on a live `segue serve`: a data dir over its budget answers 503 with Retry-After
and the one error body, recovers by itself once space returns, and loses no acknowledged event."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.slow

BUDGET_BYTES = 48 * 1000**2
DEADLINE_SECONDS = 30.0
BUDGET_ENVIRONMENT = {
    "SEGUE_DISK_BUDGET": "48MB",
    "SEGUE_DISK_MIN_FREE": "1MB",  # the test is about the budget, whatever this machine's free space
    "SEGUE_DISK_CHECK_SECONDS": "0.2",
}


class BudgetServer(LiveServer):
    """A LiveServer started with the disk budget settings in its environment."""

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **BUDGET_ENVIRONMENT}


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory):
    with BudgetServer.running_in(tmp_path_factory.mktemp("segue-disk")) as server:
        yield server


def track(server: LiveServer, write_key: str) -> tuple[str, int, dict, dict]:
    """POST one track call: its messageId, the status, the headers and the JSON body."""
    message_id = str(uuid.uuid4())
    body = {"writeKey": write_key, "userId": "u1", "event": "Disk Test", "messageId": message_id}
    request = urllib.request.Request(f"{server.url}/v1/track", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return message_id, response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return message_id, error.code, dict(error.headers), json.loads(error.read())


def send_until(server: LiveServer, write_key: str, status: int, acknowledged: list[str]) -> tuple[dict, dict]:
    """Send events until one is answered with `status` (within the deadline); its headers and body."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        message_id, answered, headers, body = track(server, write_key)
        if answered == 200:
            acknowledged.append(message_id)
        if answered == status:
            return headers, body
        time.sleep(0.05)
    raise AssertionError(f"no {status} within {DEADLINE_SECONDS} s:\n{server.log_tail()}")


def fill(path, size: int) -> None:
    chunk = b"\xa5" * 1024**2
    with path.open("wb") as file:
        for _ in range(size // len(chunk) + 1):
            file.write(chunk)


def test_a_full_budget_answers_503_then_recovers_without_losing_an_event(budget_server):
    write_key = budget_server.create_source("disk-pressure")["write_key"]
    acknowledged: list[str] = []
    for _ in range(20):
        message_id, status, _, _ = track(budget_server, write_key)
        assert status == 200
        acknowledged.append(message_id)

    ballast = budget_server.data_dir / "ballast.bin"
    fill(ballast, BUDGET_BYTES)
    headers, body = send_until(budget_server, write_key, 503, acknowledged)
    assert body["success"] is False and body["code"] == "storage_full" and "budget" in body["message"]
    assert int({key.lower(): value for key, value in headers.items()}["retry-after"]) > 0

    ballast.unlink()
    send_until(budget_server, write_key, 200, acknowledged)

    stored = {event["messageId"] for event in budget_server.events()}
    assert set(acknowledged) <= stored
    assert "disk pressure" in budget_server.log_path.read_text(errors="replace")
