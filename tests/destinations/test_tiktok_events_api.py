"""TikTok Conversions API specifics: event names, E.164 phones, batching, TikTok's error envelope."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import _ads as ads
from segue.destinations import tiktok_events_api as tiktok
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(tiktok.Settings, {"pixelCode": "C4ABCDEF", "accessToken": "secret-123"})


def sent(requests):
    (request,) = requests
    return orjson.loads(request.body)


@pytest.mark.parametrize(("name", "standard"), [
    ("Order Completed", "Purchase"), ("Product Added", "AddToCart"), ("Product Viewed", "ViewContent"),
    ("Checkout Started", "InitiateCheckout"), ("Products Searched", "Search"), ("Signed Up", "CompleteRegistration"),
    ("Lesson Finished", "Lesson Finished"),
])
def test_track_names_become_standard_or_custom_events(name, standard):
    body = sent(tiktok.translate({**minimal("track"), "event": name}, SETTINGS))
    assert body["data"][0]["event"] == standard
    assert (body["event_source"], body["event_source_id"]) == ("web", "C4ABCDEF")


def test_phone_is_hashed_in_e164_and_click_ids_are_not_hashed():
    context = {"traits": {"phone": "001 213-373-4253"}, "ttclid": "E.C.P.abc", "ttp": "ttp-1"}
    event = {**minimal("track"), "context": context}
    user = sent(tiktok.translate(event, SETTINGS))["data"][0]["user"]
    assert user["phone"] == ads.sha256_hex("+12133734253")
    assert (user["ttclid"], user["ttp"]) == ("E.C.P.abc", "ttp-1")


def test_access_token_travels_in_its_header():
    (request,) = tiktok.translate(minimal("page"), SETTINGS)
    assert request.headers["Access-Token"] == "secret-123" and "secret-123" not in request.url


def test_a_track_call_without_a_name_is_refused():
    with pytest.raises(InvalidMessage):
        tiktok.translate({**minimal("track"), "event": None}, SETTINGS)


def test_batches_are_split_at_1000_events():
    requests = tiktok.translate_batch([minimal("track")] * 1001, SETTINGS)
    assert [len(orjson.loads(request.body)["data"]) for request in requests] == [1000, 1]


def test_interpret_reads_tiktoks_envelope():
    body = b'{"code": 40002, "message": "Invalid event_source_id", "request_id": "2024030514", "data": {}}'
    assert tiktok.interpret(200, body) == "Invalid event_source_id (code 40002)"
    assert tiktok.interpret(200, b'{"code": 0, "message": "", "data": {}}') is None
    assert tiktok.interpret(503, b"Service Unavailable") == "Service Unavailable"
