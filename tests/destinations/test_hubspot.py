"""HubSpot specifics: property names, event names, not connected, error bodies."""

from __future__ import annotations

import pytest

from segue.destinations.hubspot import DESTINATION, Settings, event_name, interpret, property_name, track
from segue.errors import InvalidMessage

CONNECTED = Settings(access_token="token", portal_id="42")


def test_property_names_are_hubspot_internal_names():
    assert property_name("loginCount") == "login_count"
    assert property_name("Plan Type!") == "plan_type"


def test_event_name_mapping_wins_over_the_hub_id_rule():
    settings = Settings(access_token="token", portal_id="42", event_names={"Signed Up": "pe42_signup"})
    assert event_name({"event": "Signed Up"}, settings) == "pe42_signup"
    assert event_name({"event": "Order Completed"}, settings) == "pe42_order_completed"
    assert event_name({"event": "Order Completed"}, Settings(access_token="token")) is None


def test_track_without_email_or_event_name_sends_nothing():
    assert track({"type": "track", "event": "X", "userId": "u"}, CONNECTED) == []
    assert track({"type": "track", "event": "X", "context": {"traits": {"email": "a@b.c"}}}, Settings(access_token="t")) == []


def test_not_connected_is_a_clear_permanent_error():
    event = {"type": "identify", "traits": {"email": "a@b.c"}}
    with pytest.raises(InvalidMessage, match="log in to HubSpot") as raised:
        DESTINATION.translations["identify"](event, Settings())
    assert raised.value.code == "not_connected"


def test_group_needs_a_group_id():
    with pytest.raises(InvalidMessage):
        DESTINATION.translations["group"]({"type": "group", "traits": {}}, CONNECTED)


def test_interpret_reads_hubspot_error_bodies():
    body = b'{"status":"error","message":"Property values were not valid","correlationId":"x","category":"VALIDATION_ERROR"}'
    assert interpret(400, body) == "VALIDATION_ERROR: Property values were not valid"
    assert interpret(500, b"oops") == "oops"
