"""Event payloads holding HTML or script are shown as text in the app (no browser needed: the
rendered HTML must carry them escaped). The browser tests in tests/app check the same for the
debugger, delivery samples and the mapping preview as a user sees them; this checks the server's
side of each: the page or fragment, and the debugger's stream, which the browser renders as text."""

from __future__ import annotations

import json
import time

import orjson

from segue.control import OPERATOR
from segue.log.protocol import Entry

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">'


def assert_shown_as_text(page: str) -> None:
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page, "the payload is not on the page at all"


def test_the_mapping_preview_shows_a_pasted_event_as_text(segue, world):
    owner = segue.user_client("owner")
    event = {"type": "track", "event": HOSTILE, "userId": HOSTILE, "properties": {HOSTILE: HOSTILE}}
    response = owner.post(f"/destinations/{world.destination['id']}/preview",
                          data={"sample": "paste", "event_json": json.dumps(event), "event_type": "track",
                                "csrf": owner.headers["X-CSRF-Token"]})
    assert response.status_code == 200, response.text[:2000]
    assert_shown_as_text(response.text)


def test_delivery_samples_show_what_was_sent_and_answered_as_text(segue, world):
    instance_id = world.destination["id"]
    sample = {"at": time.time(), "messageId": HOSTILE, "event": {"event": HOSTILE},
              "exchanges": [{"request": {"body": HOSTILE}, "response": {"status": 400, "body": HOSTILE}}],
              "outcome": {"status": "failed", "message": HOSTILE}}
    segue.runtime.delivery_stats.record_failed(instance_id, sample)
    page = segue.user_client("owner").get(f"/destinations/{instance_id}")
    assert page.status_code == 200
    assert "Open sample" in page.text, "the failure sample is not on the page"
    assert_shown_as_text(page.text)


def test_the_debugger_stream_carries_payloads_as_json_data(segue):
    """Server-sent events: the payload travels as JSON on one `data:` line; the page puts it in
    the DOM as text (tests/app/test_debugger.py proves that in a browser)."""
    source = segue.plane.create_source(OPERATOR, "Hostile", "javascript")
    payload = orjson.dumps({"type": "track", "event": HOSTILE, "userId": "u\n\ndata: injected", "messageId": "m-1"})
    segue.lifespan_client.portal.call(segue.runtime.log.append, [Entry(source["id"], "m-1", "u", 0, payload)])
    status, headers, body = segue.stream_body(segue.user_client("owner"), f"/sources/{source['id']}/debugger")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    data_lines = [line for line in body.decode().splitlines() if line.startswith("data: ")]
    assert len(data_lines) == 1 and json.loads(data_lines[0][6:])["message"]["event"] == HOSTILE
