"""Klaviyo specifics: profile identifiers, phone numbers, order events, bulk splitting, errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import klaviyo
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(klaviyo.Settings, {"apiKey": "pk_test"})


def bodies(requests):
    return [orjson.loads(request.body) for request in requests]


def test_a_profile_needs_an_identifier():
    event = {**minimal("identify"), "traits": {"plan": "pro"}}
    del event["anonymousId"]
    with pytest.raises(InvalidMessage):
        klaviyo.identify(event, SETTINGS)


def test_phones_are_normalised_to_e164_or_kept_as_a_property():
    assert klaviyo.profile({"type": "identify", "traits": {"phone": "+33 6 12-34.56 78"}}, True)["phone_number"] == "+33612345678"
    kept = klaviyo.profile({"type": "identify", "traits": {"phone": "06 12 34 56 78"}, "userId": "u"}, True)
    assert "phone_number" not in kept and kept["properties"] == {"phone": "06 12 34 56 78"}


def test_track_uses_message_id_as_unique_id_and_revenue_as_value():
    (body,) = bodies(klaviyo.track({**minimal("track", known=True), "event": "Paid", "properties": {"revenue": 5}}, SETTINGS))
    assert body["data"]["attributes"]["unique_id"] == minimal("track")["messageId"]
    assert body["data"]["attributes"]["value"] == 5


def test_ordered_products_get_distinct_unique_ids():
    requests = klaviyo.track(maximal("track"), SETTINGS)
    ids = [body["data"]["attributes"]["unique_id"] for body in bodies(requests)]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_bulk_requests_hold_at_most_1000_events():
    events = [minimal("track", known=True)] * 999 + [maximal("track")]  # the last one is 2 events
    requests = klaviyo.batch(events, SETTINGS)
    sizes = [len(body["data"]["attributes"]["events-bulk-create"]["data"]) for body in bodies(requests)]
    assert sizes == [999, 1]


def test_interpret_reads_json_api_errors():
    body = b'{"errors": [{"id": "1", "code": "invalid", "title": "Invalid input.", "detail": "phone_number is invalid", "source": {"pointer": "/data/attributes/phone_number"}}]}'
    assert klaviyo.interpret(400, body) == "phone_number is invalid (/data/attributes/phone_number)"
    assert klaviyo.interpret(429, b'{"errors": [{"title": "Throttled"}]}') == "Throttled"
    assert klaviyo.interpret(500, b"oops") is None
