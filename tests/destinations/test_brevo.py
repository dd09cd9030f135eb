"""Brevo specifics: identifiers, attribute mapping, name cleaning, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import brevo
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(brevo.Settings, {"apiKey": "key", "attributes": {"plan": "PLAN"}})


def test_anonymous_events_send_nothing():
    assert brevo.track(minimal("track"), SETTINGS) == []
    assert brevo.identify(minimal("identify"), SETTINGS) == []


def test_track_without_a_name_cannot_be_sent():
    event = {**minimal("track", known=True)}
    del event["event"]
    with pytest.raises(InvalidMessage):
        brevo.track(event, SETTINGS)


def test_only_valid_phones_become_sms():
    assert brevo.contact_attributes({"phone": "06 12 34 56 78"}, SETTINGS) == {}
    assert brevo.contact_attributes({"phone": "+33 6 12 34 56 78", "plan": "pro"}, SETTINGS) == {"SMS": "+33612345678", "PLAN": "pro"}


def test_property_keys_are_cleaned_at_every_level():
    assert brevo.clean_keys({"a b": [{"c.d": 1}], "ok": {"é": 2}}) == {"a_b": [{"c_d": 1}], "ok": {"_": 2}}


def test_maximal_track_names_the_contact_by_email_and_user_id():
    (request,) = brevo.track(maximal("track"), SETTINGS)
    body = orjson.loads(request.body)
    assert body["identifiers"] == {"email_id": "ada@example.com", "ext_id": "user-1234"}
    assert body["event_name"] == "Order_Completed" and body["contact_properties"] == {"PLAN": "pro"}


def test_interpret_reads_code_and_message():
    assert brevo.interpret(400, b'{"code": "invalid_parameter", "message": "email is not valid"}') == (
        "invalid_parameter: email is not valid"
    )
    assert brevo.interpret(500, b"") is None
