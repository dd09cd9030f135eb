"""Iterable specifics: user ids, event names, purchases, bulk splitting, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import iterable
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(iterable.Settings, {"apiKey": "key"})


def bodies(requests):
    return [orjson.loads(request.body) for request in requests]


def test_anonymous_events_send_nothing():
    for method in ("track", "identify", "page", "screen"):
        assert getattr(iterable, method)(minimal(method), SETTINGS) == []


def test_track_without_a_name_cannot_be_sent():
    event = {**minimal("track", known=True)}
    del event["event"]
    with pytest.raises(InvalidMessage):
        iterable.track(event, SETTINGS)


def test_page_and_screen_names():
    assert iterable.event_name(minimal("page", known=True)) == "Loaded a Page"
    assert iterable.event_name({**minimal("screen", known=True), "name": "Home"}) == "Viewed Home Screen"


def test_purchase_total_defaults_to_the_items_sum():
    event = {**maximal("track"), "properties": {"products": [{"sku": "a", "price": 2, "quantity": 3}, {"name": "no id"}]}}
    body = iterable.purchase(event, SETTINGS)
    assert body["total"] == 6 and [item["id"] for item in body["items"]] == ["a"]


def test_batch_splits_bulk_requests_at_1000():
    requests = iterable.batch([{**minimal("track", known=True), "event": "Signed Up"}] * 1001 + [maximal("track")], SETTINGS)
    assert [request.url.rsplit("/", 2)[-2:] for request in requests] == [
        ["events", "trackBulk"], ["events", "trackBulk"], ["commerce", "trackPurchase"],
    ]
    assert [len(body["events"]) for body in bodies(requests[:2])] == [1000, 1]


def test_interpret_reads_code_and_msg():
    body = b'{"msg": "Invalid API key", "code": "BadApiKey", "params": {"ip": "1.2.3.4"}}'
    assert iterable.interpret(401, body) == "BadApiKey: Invalid API key"
    assert iterable.interpret(500, b"oops") is None
