"""Braze specifics: identifiers, profile fields, purchases, array limits, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import braze
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(braze.Settings, {"apiKey": "key"})


def bodies(requests):
    return [orjson.loads(request.body) for request in requests]


def test_an_event_without_any_id_cannot_be_sent():
    event = {**minimal("track")}
    del event["anonymousId"]
    with pytest.raises(InvalidMessage):
        braze.track(event, SETTINGS)


def test_identify_without_traits_sends_nothing():
    assert braze.identify(minimal("identify", known=True), SETTINGS) == []


def test_reserved_event_property_names_are_dropped():
    event = {**minimal("track", known=True), "event": "Viewed", "properties": {"time": 1, "event_name": "x", "$a": 1, "ok": 2}}
    (body,) = bodies(braze.track(event, SETTINGS))
    assert body["events"][0]["properties"] == {"ok": 2}


def test_unknown_genders_are_left_out():
    assert braze.attributes({"gender": "Female"}) == {"gender": "F"}
    assert braze.attributes({"gender": "unsure"}) == {}


def test_an_order_without_priced_products_is_a_custom_event():
    event = {**minimal("track", known=True), "properties": {"revenue": 3, "products": [{"product_id": "a"}]}}
    (body,) = bodies(braze.track(event, SETTINGS))
    assert body["events"][0]["name"] == "Order Completed" and "purchases" not in body


def test_orders_over_75_products_are_split_into_several_requests():
    products = [{"product_id": f"p{i}", "price": 1.0} for i in range(80)]
    event = {**maximal("track"), "properties": {"products": products}}
    assert [len(body["purchases"]) for body in bodies(braze.track(event, SETTINGS))] == [75, 5]


def test_a_batch_keeps_each_array_within_75_objects():
    events = [minimal("track", known=True)] * 100 + [maximal("identify")] * 80
    sizes = [{key: len(items) for key, items in body.items()} for body in bodies(braze.batch(events, SETTINGS))]
    assert sizes == [{"attributes": 75, "events": 75}, {"attributes": 5, "events": 25}]


def test_a_batch_sends_at_most_50_merges_per_request():
    requests = braze.batch([minimal("alias")] * 60, SETTINGS)
    assert [len(body["merge_updates"]) for body in bodies(requests)] == [50, 10]
    assert all(request.url.endswith("/users/merge") for request in requests)


def test_interpret_reads_message_and_errors():
    body = b'{"message": "Invalid API key", "errors": ["bad"]}'
    assert braze.interpret(401, body) == "Invalid API key; bad"
    assert braze.interpret(400, b'{"message": "\'merge_updates\' must be an array of objects"}').startswith("'merge")
    assert braze.interpret(500, b"oops") is None
