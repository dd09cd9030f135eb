"""Segment HTTP Forwarding specifics: size limits, batch splitting, dropped fields, error bodies,
and a real forward to a running Segue's Tracking API."""

from __future__ import annotations

import httpx
import orjson
import pytest

from segue.destinations import segment_forwarding as forwarding
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(forwarding.Settings, {"writeKey": "wk"})


def sized(size: int, number: int = 0) -> dict:
    """A track event whose encoded form is about `size` bytes."""
    event = {**minimal("track"), "messageId": f"m-{number}"}
    padding = size - len(orjson.dumps(event)) - len(',"properties":{"pad":""}')
    return {**event, "properties": {"pad": "x" * padding}}


def test_an_event_above_32_kb_is_refused_alone_and_in_a_batch():
    with pytest.raises(InvalidMessage):
        forwarding.forward(sized(32 * 1024 + 1), SETTINGS)
    with pytest.raises(InvalidMessage):
        forwarding.forward_batch([minimal("track"), sized(40_000)], SETTINGS)
    assert forwarding.forward(sized(32 * 1024), SETTINGS)


def test_batches_are_split_below_500_kb_keeping_the_order():
    events = [sized(30_000, number) for number in range(40)]
    requests = forwarding.forward_batch(events, SETTINGS)
    assert len(requests) == 3 and all(len(request.body) <= 500_000 for request in requests)
    sent = [item["messageId"] for request in requests for item in orjson.loads(request.body)["batch"]]
    assert sent == [event["messageId"] for event in events]


def test_batches_hold_at_most_2500_events():
    requests = forwarding.forward_batch([{"type": "identify", "userId": "u"}] * 2600, SETTINGS)
    assert [len(orjson.loads(request.body)["batch"]) for request in requests] == [2500, 100]


def test_write_key_metadata_and_sent_at_are_dropped():
    dropped = {"writeKey": "someone-else", "_metadata": {"bundled": []}, "sentAt": "2024-03-05T14:07:10Z"}
    (request,) = forwarding.forward({**maximal("track"), **dropped}, SETTINGS)
    kept = {key: value for key, value in maximal("track").items() if key != "sentAt"}
    assert orjson.loads(request.body) == kept


def test_interpret_reads_segue_and_segment_error_bodies():
    segue_error = b'{"success": false, "code": "invalid_message", "message": "no id"}'
    assert forwarding.interpret(400, segue_error) == "invalid_message: no id"
    assert forwarding.interpret(400, b'{"message": "bad"}') == "bad"
    assert forwarding.interpret(400, b"Bad Request") == "Bad Request"
    assert forwarding.interpret(400, b"[]") is None


@pytest.mark.slow
def test_events_forwarded_to_a_running_segue_are_stored_as_sent(live_server):
    source = live_server.create_source("Forwarded", "http")
    settings = validate_settings(forwarding.Settings, {"host": live_server.url, "writeKey": source["write_key"]})
    events = [{**maximal(method), "messageId": f"fwd-{method}"} for method in ("track", "identify", "page")]
    requests = forwarding.forward(events[0], settings) + forwarding.forward_batch(events[1:], settings)
    for request in requests:
        response = httpx.request(request.method, request.url, headers=dict(request.headers), content=request.body)
        assert response.status_code == 200, response.text
    stored = {event["messageId"]: event for event in live_server.events(source["id"])}
    assert set(stored) == {event["messageId"] for event in events}
    for event in events:
        assert stored[event["messageId"]]["timestamp"] == event["timestamp"]
        assert stored[event["messageId"]].get("properties") == event.get("properties")
