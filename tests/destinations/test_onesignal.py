"""OneSignal specifics: tags, properties, subscriptions, batching, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import onesignal
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(onesignal.Settings, {"appId": "app", "apiKey": "k"})


def test_tags_are_flat_strings_without_identifiers():
    traits = {"email": "a@x.io", "phone": "+331", "plan": "pro", "seats": 3, "ok": False, "nested": {"a": 1}}
    assert onesignal.tags(traits) == {"plan": "pro", "seats": "3", "ok": "false"}


def test_country_names_are_not_sent_as_codes():
    assert "country" not in onesignal.properties(maximal("identify"))  # "France" is not an ISO code
    assert onesignal.properties(maximal("identify"))["language"] == "fr"


def test_anonymous_users_send_nothing():
    assert onesignal.identify(minimal("identify"), SETTINGS) == []
    assert onesignal.track(minimal("track"), SETTINGS) == []


def test_identify_without_traits_only_creates_the_user():
    (request,) = onesignal.identify(minimal("identify", known=True), SETTINGS)
    assert orjson.loads(request.body) == {"identity": {"external_id": "user-1234"}}


def test_bad_phone_numbers_raise():
    event = {**minimal("identify", known=True), "traits": {"phone": "12"}}
    with pytest.raises(InvalidMessage):
        onesignal.identify(event, SETTINGS)


def test_batch_groups_track_calls_in_one_request():
    events = [minimal("track", known=True), {**minimal("track", known=True), "messageId": "m2"}, minimal("track")]
    (request,) = onesignal.batch(events, SETTINGS)
    assert [item["idempotency_key"] for item in orjson.loads(request.body)["events"]] == [events[0]["messageId"], "m2"]
    assert onesignal.batch([minimal("track")], SETTINGS) == []


def test_long_event_names_are_cut():
    event = {**minimal("track", known=True), "event": "x" * 200}
    assert len(onesignal.custom_event(event)["name"]) == onesignal.MAX_EVENT_NAME


def test_interpret_reads_both_error_shapes():
    assert onesignal.interpret(400, b'{"errors": ["app_id not found"]}') == "app_id not found"
    body = b'{"errors": [{"code": "not found", "title": "failed to find a onesignal_id for user_id abc123"}]}'
    assert onesignal.interpret(404, body) == "not found: failed to find a onesignal_id for user_id abc123"
    assert onesignal.interpret(503, b"unavailable") == "unavailable"
