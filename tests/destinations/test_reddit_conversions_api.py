"""Reddit Conversions API specifics: tracking types, custom names, match keys, batching, errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import _ads as ads
from segue.destinations import reddit_conversions_api as reddit
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(reddit.Settings, {"pixelId": "a2_abc", "conversionAccessToken": "tok"})


def sent(requests):
    (request,) = requests
    return orjson.loads(request.body)["data"]


@pytest.mark.parametrize(("name", "event_type"), [
    ("Order Completed", {"tracking_type": "PURCHASE"}), ("Product Added", {"tracking_type": "ADD_TO_CART"}),
    ("Products Searched", {"tracking_type": "SEARCH"}), ("Signed Up", {"tracking_type": "SIGN_UP"}),
    ("LEAD", {"tracking_type": "LEAD"}),
    ("Lesson Finished", {"tracking_type": "CUSTOM", "custom_event_name": "Lesson Finished"}),
])
def test_track_names_become_tracking_types(name, event_type):
    (event,) = sent(reddit.translate({**minimal("track"), "event": name}, SETTINGS))["events"]
    assert event["type"] == event_type and event["metadata"]["conversion_id"] == minimal("track")["messageId"]
    assert event["event_at"] == 1709647629123


def test_custom_names_longer_than_64_characters_are_refused():
    with pytest.raises(InvalidMessage, match="64"):
        reddit.translate({**minimal("track"), "event": "x" * 65}, SETTINGS)


def test_match_keys():
    event = maximal("track")
    event["context"]["traits"]["phone"] = "+33 6 12 34 56 78"
    (event,) = sent(reddit.translate(event, SETTINGS))["events"]
    user = event["user"]
    assert user["ip_address"] == ads.sha256_hex("203.0.113.7")
    assert user["idfa"] == ads.sha256_hex("7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB")
    assert user["phone_number"] == ads.sha256_hex("+33612345678")
    assert user["user_agent"] == maximal("track")["context"]["userAgent"]
    assert user["screen_dimensions"] == {"width": 1179, "height": 2556}


def test_no_advertising_id_without_a_mobile_os_nor_screen_without_sizes():
    event = maximal("track")
    event["context"]["os"] = {"name": "Windows"}
    event["context"]["screen"] = {"width": 1.5, "height": 2}
    user = sent(reddit.translate(event, SETTINGS))["events"][0]["user"]
    assert not {"idfa", "aaid", "screen_dimensions"} & set(user)


def test_batches_are_split_at_1000_events():
    requests = reddit.translate_batch([minimal("page")] * 1500, SETTINGS)
    assert [len(orjson.loads(request.body)["data"]["events"]) for request in requests] == [1000, 500]


def test_interpret_reads_reddit_errors():
    body = b'{"error": {"code": 400, "message": "There were 2 invalid conversion events. None were processed."}}'
    assert reddit.interpret(400, body) == "There were 2 invalid conversion events. None were processed."
    assert reddit.interpret(401, b'{"error": "UNAUTHORIZED"}') == "UNAUTHORIZED"
    assert reddit.interpret(429, b"Too Many Requests") == "Too Many Requests"
    assert reddit.interpret(400, b"{}") is None
