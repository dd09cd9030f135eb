"""Loops specifics: contact ids, flat properties, idempotency keys, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import loops
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(loops.Settings, {"apiKey": "key"})


def test_anonymous_events_send_nothing():
    assert loops.track(minimal("track"), SETTINGS) == []
    assert loops.identify(minimal("identify"), SETTINGS) == []


def test_track_without_a_name_cannot_be_sent():
    event = {**minimal("track", known=True)}
    del event["event"]
    with pytest.raises(InvalidMessage):
        loops.track(event, SETTINGS)


def test_the_idempotency_key_is_the_message_id_or_its_hash_when_too_long():
    assert loops.idempotency_key(minimal("track")) == {"Idempotency-Key": minimal("track")["messageId"]}
    long_key = loops.idempotency_key({"messageId": "m" * 101})["Idempotency-Key"]
    assert len(long_key) == 64 and long_key == loops.idempotency_key({"messageId": "m" * 101})["Idempotency-Key"]


def test_reserved_names_cannot_be_overwritten_by_traits():
    (request,) = loops.identify({**maximal("identify"), "traits": {"email": "a@example.com", "id": 3, "userId": "x"}}, SETTINGS)
    assert orjson.loads(request.body) == {"email": "a@example.com", "userId": "user-1234"}


def test_nested_properties_become_json_text():
    (request,) = loops.track(maximal("track"), SETTINGS)
    properties = orjson.loads(request.body)["eventProperties"]
    assert properties["nested"] == '{"level1": {"level2": {"level3": [1, 2.5, null, true, "ünïcödé"]}}}'
    assert "none" not in properties and properties["flag"] is False


def test_interpret_reads_the_message():
    assert loops.interpret(400, b'{"success": false, "message": "Invalid email"}') == "Invalid email"
    assert loops.interpret(500, b"") is None
