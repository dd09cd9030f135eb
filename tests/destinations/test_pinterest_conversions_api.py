"""Pinterest Conversions API specifics: event names, decimal strings, batching, Pinterest errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import pinterest_conversions_api as pinterest
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(pinterest.Settings, {"adAccountId": "549755885175", "conversionToken": "tok"})


def sent(requests):
    (request,) = requests
    return orjson.loads(request.body)["data"]


@pytest.mark.parametrize(("name", "pinterest_name"), [
    ("Order Completed", "checkout"), ("Product Added", "add_to_cart"), ("Products Searched", "search"),
    ("Signed Up", "signup"), ("Product List Viewed", "view_category"), ("lead", "lead"), ("Lesson Finished", "custom"),
])
def test_track_names_become_pinterest_events(name, pinterest_name):
    assert sent(pinterest.translate({**minimal("track"), "event": name}, SETTINGS))[0]["event_name"] == pinterest_name


def test_amounts_are_decimal_strings_and_identifiers_lists():
    (event,) = sent(pinterest.translate(maximal("track"), SETTINGS))
    assert event["custom_data"]["value"] == "42.5" and event["custom_data"]["contents"][0]["item_price"] == "21.25"
    assert all(isinstance(event["user_data"][key], list) for key in ("em", "external_id", "hashed_maids"))
    assert event["user_data"]["client_ip_address"] == "203.0.113.7" and event["language"] == "fr"


def test_test_mode_and_bearer_token():
    settings = validate_settings(pinterest.Settings, {"adAccountId": "1", "conversionToken": "tok", "testMode": True})
    (request,) = pinterest.translate(minimal("page"), settings)
    assert request.url.endswith("/ad_accounts/1/events?test=true") and request.headers["Authorization"] == "Bearer tok"


def test_a_track_call_without_a_name_is_refused():
    with pytest.raises(InvalidMessage):
        pinterest.translate({**minimal("track"), "event": ""}, SETTINGS)


def test_batches_are_split_at_1000_events():
    requests = pinterest.translate_batch([minimal("page")] * 2000, SETTINGS)
    assert [len(orjson.loads(request.body)["data"]) for request in requests] == [1000, 1000]


def test_interpret_reads_pinterest_errors():
    unauthorized = b'{"code": 2, "message": "Authentication failed."}'
    assert pinterest.interpret(401, unauthorized) == "Authentication failed. (code 2)"
    partial = (b'{"num_events_received": 2, "num_events_processed": 1, "events": [{"status": "processed"}, '
               b'{"status": "failed", "error_message": "event_time is too far in the past"}]}')
    assert pinterest.interpret(422, partial) == "event 1: event_time is too far in the past"
    assert pinterest.interpret(500, b"oops") == "oops"
    assert pinterest.interpret(400, b"{}") is None
