"""Twilio specifics: E.164 cleaning, sender kinds, body limits, error bodies."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from segue.destinations import _messaging, twilio
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(twilio.Settings, {
    "accountSid": "AC" + "0" * 32, "authToken": "t", "sender": "+15550000000",
    "eventTemplates": {"Order Completed": "{{properties.note}}"},
})


def _event(note: object, phone: str = "+15551112222") -> dict:
    return {**minimal("track"), "context": {"traits": {"phone": phone}}, "properties": {"note": note}}


@pytest.mark.parametrize("raw, cleaned", [
    ("+1 (555) 751-1234", "+15557511234"), ("0033 6 12 34 56 78", "+33612345678"), ("+44.7700.900123", "+447700900123"),
])
def test_phone_numbers_are_cleaned_to_e164(raw, cleaned):
    assert _messaging.e164(raw) == cleaned


@pytest.mark.parametrize("raw", ["555-1234", "06 12 34 56 78", "+0123456789", "call me"])
def test_numbers_that_are_not_e164_raise(raw):
    with pytest.raises(InvalidMessage):
        _messaging.e164(raw)


def test_body_is_cut_to_1600_characters_and_empty_bodies_are_not_sent():
    (request,) = twilio.track(_event("x" * 2000), SETTINGS)
    assert len(parse_qs(request.body.decode())["Body"][0]) == twilio.MAX_BODY
    assert twilio.track(_event("  "), SETTINGS) == []


def test_no_phone_sends_nothing():
    assert twilio.track(minimal("track", known=True), SETTINGS) == []


def test_interpret_reads_twilio_errors():
    body = (b'{"code": 21211, "message": "Invalid \'To\' Phone Number", '
            b'"more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}')
    assert twilio.interpret(400, body) == "21211: Invalid 'To' Phone Number"
    assert twilio.interpret(502, b"Bad Gateway") == "Bad Gateway"
