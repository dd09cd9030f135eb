"""Crisp specifics: email addressing, profile card, error bodies."""

from __future__ import annotations

import pytest

from segue.destinations import crisp
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(crisp.Settings, {"websiteId": "w-1", "identifier": "id", "key": "k"})


def test_people_without_email_send_nothing():
    assert crisp.identify(minimal("identify", known=True), SETTINGS) == []
    assert crisp.track(minimal("track", known=True), SETTINGS) == []


def test_email_is_escaped_in_the_path():
    event = {**minimal("track"), "context": {"traits": {"email": "a+b/c@example.com"}}}
    (request,) = crisp.track(event, SETTINGS)
    assert request.url.endswith("/people/events/a%2Bb%2Fc@example.com")


def test_track_without_event_name_raises():
    with pytest.raises(InvalidMessage):
        crisp.track({**minimal("track"), "event": None}, SETTINGS)


def test_person_card_from_reserved_traits():
    traits = {"name": "Ada", "address": {"street": "1 rue X", "city": "Lyon"}, "website": "https://ada.example"}
    assert crisp.person(traits) == {"nickname": "Ada", "website": "https://ada.example", "address": "1 rue X, Lyon"}
    assert crisp.person({"address": "Lyon"}) == {"address": "Lyon"}


def test_interpret_reads_the_reason():
    assert crisp.interpret(404, b'{"error": true, "reason": "people_not_found", "data": {}}') == "people_not_found"
    body = b'{"error": true, "reason": "invalid_data", "data": {"message": "email is invalid"}}'
    assert crisp.interpret(400, body) == "invalid_data: email is invalid"
