"""Customer.io specifics: event ids, identifiers, error bodies."""

from __future__ import annotations

import re

from segue.destinations import customerio
from segue.destinations.common import unix_seconds
from segue.destinations.settings import validate_settings
from tests.destinations.events import minimal

SETTINGS = validate_settings(customerio.Settings, {"siteId": "site", "apiKey": "key"})
CROCKFORD_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def test_derived_event_ids_are_deterministic_ulids_carrying_the_event_time():
    event = minimal("track")
    derived = customerio.event_id(event)
    assert CROCKFORD_ULID.fullmatch(derived) and derived == customerio.event_id(dict(event))
    assert derived[:10] == "01HR7F12T3"  # 2024-03-05T14:07:09.123Z
    assert customerio.event_id({**event, "messageId": "other"}) != derived


def test_a_ulid_message_id_is_used_as_is():
    event = {**minimal("track"), "messageId": "01hr7f12t3abcdefghjkmnpqrs"}
    assert customerio.event_id(event) == "01HR7F12T3ABCDEFGHJKMNPQRS"


def test_identify_without_user_id_or_email_sends_nothing():
    assert customerio.identify(minimal("identify"), SETTINGS) == []


def test_page_and_screen_without_names_send_nothing():
    assert customerio.page(minimal("page", known=True), SETTINGS) == []
    assert customerio.screen(minimal("screen", known=True), SETTINGS) == []


def test_created_at_accepts_seconds_and_iso_text():
    assert unix_seconds(1424730535) == 1424730535
    assert unix_seconds("2015-02-23T22:28:55Z") == 1424730535
    assert unix_seconds("2015-02-23T22:28:55") == 1424730535
    assert unix_seconds("yesterday") is None and unix_seconds(True) is None


def test_interpret_reads_meta_errors():
    assert customerio.interpret(400, b'{"meta": {"error": "invalid id"}}') == "invalid id"
    assert customerio.interpret(400, b'{"meta": {"errors": ["a", "b"]}}') == "a; b"
    assert customerio.interpret(401, b"Unauthorized request") == "Unauthorized request"
