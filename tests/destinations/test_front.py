"""Front specifics: contact aliases, opt-in custom fields, note templates, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import front
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import minimal

SETTINGS = validate_settings(front.Settings, {"apiToken": "t"})


def test_alias_prefers_email_then_phone_and_escapes():
    both = {"type": "identify", "traits": {"email": "a b@x.io", "phone": "+1"}}
    assert front.contact_alias(both) == "alt:email:a%20b@x.io"
    assert front.contact_alias({"type": "identify", "traits": {"phone": "+331"}}) == "alt:phone:+331"
    assert front.contact_alias(minimal("identify", known=True)) is None


def test_custom_fields_are_opt_in():
    event = {**minimal("identify", known=True), "traits": {"email": "a@x.io", "plan": "pro"}}
    assert front.identify(event, SETTINGS) == []
    enabled = validate_settings(front.Settings, {"apiToken": "t", "sendCustomFields": True})
    (request,) = front.identify(event, enabled)
    assert orjson.loads(request.body) == {"custom_fields": {"plan": "pro"}}


def test_notes_only_for_templated_events_and_need_an_author():
    with pytest.raises(InvalidSettings):
        validate_settings(front.Settings, {"apiToken": "t", "noteTemplates": {"Signed Up": "hi"}})
    values = {"apiToken": "t", "noteAuthor": "tea_1", "noteTemplates": {"Signed Up": "{{event}}!"}}
    settings = validate_settings(front.Settings, values)
    event = {**minimal("track"), "event": "Signed Up", "context": {"traits": {"email": "a@x.io"}}}
    (request,) = front.track(event, settings)
    assert orjson.loads(request.body) == {"author_id": "tea_1", "body": "Signed Up!"}
    assert front.track({**event, "event": "Other"}, settings) == []


def test_interpret_reads_the_error_object():
    body = b'{"_error": {"status": 404, "title": "Not found", "message": "Unknown contact"}}'
    assert front.interpret(404, body) == "Not found: Unknown contact"
    assert front.interpret(429, b"slow down") == "slow down"
