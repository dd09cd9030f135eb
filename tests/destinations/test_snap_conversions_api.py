"""Snap Conversions API specifics: Snap event names, unknown events, batching, Snap errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import snap_conversions_api as snap
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(snap.Settings, {"pixelId": "px-1", "accessToken": "tok"})


def sent(requests):
    (request,) = requests
    return orjson.loads(request.body)["data"]


@pytest.mark.parametrize(("name", "snap_name"), [
    ("Order Completed", "PURCHASE"), ("Product Added", "ADD_CART"), ("Product Viewed", "VIEW_CONTENT"),
    ("Checkout Started", "START_CHECKOUT"), ("Products Searched", "SEARCH"), ("Signed Up", "SIGN_UP"),
    ("SUBSCRIBE", "SUBSCRIBE"), ("CUSTOM_EVENT_2", "CUSTOM_EVENT_2"),
])
def test_track_names_become_snap_events(name, snap_name):
    assert sent(snap.translate({**minimal("track"), "event": name}, SETTINGS))[0]["event_name"] == snap_name


def test_events_snap_does_not_know_send_nothing():
    assert snap.translate({**minimal("track"), "event": "Lesson Finished"}, SETTINGS) == []
    assert snap.translate_batch([{**minimal("track"), "event": "Lesson Finished"}], SETTINGS) == []


def test_a_track_call_without_a_name_is_refused():
    with pytest.raises(InvalidMessage):
        snap.translate({**minimal("track"), "event": None}, SETTINGS)


def test_batches_skip_unknown_events_and_split_at_2000():
    events = [minimal("page")] * 2001 + [{**minimal("track"), "event": "Lesson Finished"}]
    requests = snap.translate_batch(events, SETTINGS)
    assert [len(orjson.loads(request.body)["data"]) for request in requests] == [2000, 1]
    assert requests[0].url == "https://tr.snapchat.com/v3/px-1/events?access_token=tok"


def test_interpret_reads_snap_errors():
    invalid = b'{"status": "INVALID", "reason": "Missing event_source_url"}'
    assert snap.interpret(400, invalid) == "Missing event_source_url"
    body = b'{"request_status": "ERROR", "debug_message": "Invalid access token", "error_code": "E3002"}'
    assert snap.interpret(401, body) == "Invalid access token (E3002)"
    assert snap.interpret(500, b"internal error") == "internal error"
    assert snap.interpret(400, b'{"status": "VALID"}') is None
