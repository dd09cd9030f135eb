"""Heap specifics: user ids, property values, identities, bulk splitting, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import heap
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(heap.Settings, {"appId": "11"})


def bodies(requests):
    return [orjson.loads(request.body) for request in requests]


def test_heap_user_id_is_a_stable_number_below_2_53():
    user_id = heap.heap_user_id("anon-5678")
    assert user_id == heap.heap_user_id("anon-5678") != heap.heap_user_id("anon-5679")
    assert 0 <= int(user_id) < 2**53


def test_property_values_are_numbers_or_short_strings():
    flat = heap.flatten({"a": {"b": {"c": 1}}, "none": None, "flag": False, "long": "x" * 2000, "list": [1, None, "b"]})
    assert flat == {"a.b.c": 1, "flag": "false", "long": "x" * 1023, "list": "1||b"}


def test_a_track_sends_identity_or_user_id_never_both():
    (body,) = bodies(heap.translate(minimal("track", known=True) | {"anonymousId": "anon"}, SETTINGS))
    assert body["identity"] == "user-1234" and "user_id" not in body


@pytest.mark.parametrize("event", [{**minimal("track"), "anonymousId": None}, {**minimal("track"), "event": ""},
                                   {**minimal("group"), "groupId": None}, minimal("alias")])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        heap.translate(event, SETTINGS)


@pytest.mark.parametrize("event", [minimal("identify", known=True), {**minimal("identify"), "traits": {"plan": "pro"}}])
def test_identify_without_traits_and_merge_or_without_user_id_sends_nothing(event):
    assert heap.translate(event, SETTINGS) == []


def test_group_of_an_anonymous_user_only_sets_account_properties():
    (body,) = bodies(heap.translate(minimal("group"), SETTINGS))
    assert body == {"app_id": "11", "account_id": "grp-42", "properties": {}}


def test_bulk_track_is_split_into_requests_of_1000_events():
    events = [minimal("track", known=True)] * 1500
    assert [len(body["events"]) for body in bodies(heap.translate_batch(events, SETTINGS))] == [1000, 500]


def test_interpret_reads_json_or_text_errors():
    assert heap.interpret(400, b'{"error": "Invalid app_id"}') == "Invalid app_id"
    assert heap.interpret(400, b"Bad Request: missing event") == "Bad Request: missing event"
    assert heap.interpret(400, b"") is None
