"""Google Analytics 4 specifics: names, reserved events, ids, batch splitting, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import google_analytics_4 as ga4
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(ga4.Settings, {"measurementId": "G-TEST", "apiSecret": "s3cret"})


def bodies(requests):
    return [orjson.loads(request.body) for request in requests]


@pytest.mark.parametrize(("name", "expected"), [
    ("Video Played", "video_played"), ("  checkout-step 2 ", "checkout_step_2"), ("x" * 50, "x" * 40)])
def test_custom_event_names_become_ga4_names(name, expected):
    assert ga4.ga4_name(name) == expected


def test_event_names_keep_case_when_asked():
    values = {"measurementId": "G-TEST", "apiSecret": "s", "lowercaseEventNames": False}
    settings = validate_settings(ga4.Settings, values)
    (body,) = bodies(ga4.translate({**minimal("track"), "event": "Video Played"}, settings))
    assert body["events"][0]["name"] == "Video_Played"


@pytest.mark.parametrize("name", ["session_start", "first visit", "Firebase Thing", "42 things", "!!!"])
def test_reserved_or_unnamable_events_are_refused(name):
    with pytest.raises(InvalidMessage):
        ga4.translate({**minimal("track"), "event": name}, SETTINGS)


def test_an_event_without_ids_is_refused():
    event = minimal("track")
    del event["anonymousId"]
    with pytest.raises(InvalidMessage, match="client_id"):
        ga4.translate(event, SETTINGS)


@pytest.mark.parametrize("method", ["identify", "group", "alias"])
def test_methods_without_a_ga4_event_are_refused(method):
    with pytest.raises(InvalidMessage):
        ga4.translate(minimal(method, known=True), SETTINGS)


def test_client_id_option_overrides_anonymous_id():
    event = {**minimal("page"), "integrations": {"Google Analytics 4": {"client_id": "GA1.1.123.456"}}}
    (body,) = bodies(ga4.translate(event, SETTINGS))
    assert body["client_id"] == "GA1.1.123.456"


def test_params_are_scalars_at_most_25_and_values_cut_to_100_chars():
    properties = {f"p{i}": i for i in range(30)} | {"nested": {"a": 1}, "list": [1], "long": "y" * 150}
    (body,) = bodies(ga4.translate({**minimal("track"), "event": "Big", "properties": properties}, SETTINGS))
    params = body["events"][0]["params"]
    assert len(params) == 25 and "nested" not in params and "list" not in params
    (body,) = bodies(ga4.translate({**minimal("track"), "event": "Big", "properties": {"long": "y" * 150}}, SETTINGS))
    assert body["events"][0]["params"]["long"] == "y" * 100


def test_country_names_are_not_sent_as_country_ids():
    event = {**minimal("page"), "context": {"location": {"country": "France", "city": "Lyon"}}}
    (body,) = bodies(ga4.translate(event, SETTINGS))
    assert body["user_location"] == {"city": "Lyon"}


def test_batch_splits_one_client_into_requests_of_25_events():
    events = [{**minimal("track"), "event": f"Step {i}"} for i in range(30)]
    assert [len(body["events"]) for body in bodies(ga4.translate_batch(events, SETTINGS))] == [25, 5]


def test_interpret_reads_validation_messages_and_google_errors():
    debug = (b'{"validationMessages": [{"fieldPath": "events", "description": "Event at index: [0] has invalid name '
             b'[_badEventName]. Names must start with an alphabetic character.", "validationCode": "NAME_INVALID"}]}')
    assert ga4.interpret(200, debug).startswith("events: Event at index: [0] has invalid name")
    assert ga4.interpret(200, b'{"validationMessages": []}') is None
    assert ga4.interpret(403, b'{"error": {"code": 403, "message": "Permission denied"}}') == "Permission denied"
    assert ga4.interpret(502, b"<html></html>") is None
