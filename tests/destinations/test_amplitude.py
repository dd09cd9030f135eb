"""Amplitude specifics: id rules, endpoints, unsupported calls, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import amplitude
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(amplitude.Settings, {"apiKey": "key-123"})


def body(requests):
    (request,) = requests
    return orjson.loads(request.body)


def test_shortest_id_in_a_batch_sets_min_id_length():
    events = [{**minimal("track"), "anonymousId": "abcdef"}, {**minimal("track", known=True), "userId": "abc"}]
    assert body(amplitude.translate_batch(events, SETTINGS))["options"] == {"min_id_length": 3}


def test_ids_of_five_chars_need_no_options():
    event = {**minimal("track", known=True), "userId": "abcde"}
    assert "options" not in body(amplitude.translate(event, SETTINGS))


def test_an_event_without_ids_is_refused():
    event = minimal("track")
    del event["anonymousId"]
    with pytest.raises(InvalidMessage, match="userId or an anonymousId"):
        amplitude.translate(event, SETTINGS)


@pytest.mark.parametrize("event", [{**minimal("track"), "event": ""}, {**minimal("group"), "groupId": None},
                                   minimal("alias")])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        amplitude.translate(event, SETTINGS)


def test_identify_without_traits_sends_nothing():
    assert amplitude.translate(minimal("identify", known=True), SETTINGS) == []


def test_revenue_fields_need_amplitude_types():
    event = {**minimal("track"), "properties": {"revenue": "12.00", "quantity": 1.5, "product_id": "sku-9"}}
    sent = body(amplitude.translate(event, SETTINGS))["events"][0]
    assert "revenue" not in sent and "quantity" not in sent and sent["productId"] == "sku-9"


def test_interpret_reads_amplitude_errors():
    invalid = (b'{"code": 400, "error": "Invalid field values on some events", '
               b'"events_with_invalid_fields": {"time": [3, 4]}}')
    assert amplitude.interpret(400, invalid) == "Invalid field values on some events; invalid time in events [3, 4]"
    missing = b'{"code": 400, "error": "Request missing required field", "missing_field": "api_key"}'
    assert amplitude.interpret(400, missing) == "Request missing required field; missing field api_key"
    throttled = (b'{"code": 429, "error": "Too many requests for some devices and users", '
                 b'"eps_threshold": 30, "throttled_events": [0]}')
    assert "throttled events [0] (limit 30 events/s)" in amplitude.interpret(429, throttled)
    assert amplitude.interpret(502, b"<html>Bad Gateway</html>") is None
