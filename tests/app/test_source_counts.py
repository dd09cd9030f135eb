"""The Connections home's live counts are exact, also beyond the 1,000 newest events of a source."""

from __future__ import annotations

import json
import urllib.request

from tests.app.conftest import _basic, add_source, send_track, write_key

EVENTS = 1_234


def send_batch(server, key: str, messages: list[dict]) -> int:
    request = urllib.request.Request(
        f"{server.url}/v1/batch", data=json.dumps({"batch": messages}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Basic " + _basic(key)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_counts_beyond_a_thousand_events_are_exact(page, app_server):
    add_source(page, "Busy Source")
    key = write_key(page)
    assert send_track(app_server, key, {"userId": "busy", "event": "First"}) == 200  # waits until the key works
    page.goto("/")
    messages = [{"type": "track", "userId": f"busy{n % 7}", "event": "Busy Event", "messageId": f"busy-{n}"}
                for n in range(EVENTS - 1)]
    assert send_batch(app_server, key, messages) == 200
    node = page.locator(".source-node", has_text="Busy Source")
    node.get_by_test_id("count-day").filter(has_text=f"{EVENTS:,}").wait_for(timeout=15_000)
    assert node.get_by_test_id("count-hour").inner_text() == f"{EVENTS:,}"
