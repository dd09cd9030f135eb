"""Matomo specifics: visitor ids, token-only parameters, orders, bulk splitting, error bodies."""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson
import pytest

from segue.destinations import matomo
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(matomo.Settings, {"url": "https://matomo.example.com/", "siteId": 3})
WITH_TOKEN = validate_settings(matomo.Settings, {"url": "https://matomo.example.com", "siteId": 3, "authToken": "t"})


def params(requests):
    (request,) = requests
    return {key: values[0] for key, values in parse_qs(request.body.decode()).items()}


def test_visitor_id_is_16_hex_chars_from_anonymous_id_else_user_id():
    anonymous = matomo.visitor_id({"anonymousId": "anon-1", "userId": "u"})
    assert len(anonymous) == 16 and int(anonymous, 16) >= 0
    assert anonymous != matomo.visitor_id({"userId": "u"}) == matomo.visitor_id({"userId": "u"})


def test_time_ip_and_token_are_sent_only_with_a_token():
    without = params(matomo.translate(maximal("page"), SETTINGS))
    assert not {"cdt", "cip", "token_auth"} & set(without)
    sent = params(matomo.translate(maximal("page"), WITH_TOKEN))
    assert sent["cdt"] == "1709647629" and sent["cip"] == "203.0.113.7" and sent["token_auth"] == "t"


def test_endpoint_has_no_double_slash():
    (request,) = matomo.translate(minimal("page"), SETTINGS)
    assert request.url == "https://matomo.example.com/matomo.php"


def test_an_order_without_order_id_is_an_event():
    event = {**minimal("track"), "properties": {"revenue": 10}}
    sent = params(matomo.translate(event, SETTINGS))
    assert sent["e_a"] == "Order Completed" and sent["e_c"] == "All" and sent["e_v"] == "10"


def test_order_items_default_to_matomo_values():
    assert matomo.item({"product_id": "p1"}) == ["p1", "", "", 0, 1]


@pytest.mark.parametrize("event", [{**minimal("track"), "event": ""}, {**minimal("page"), "anonymousId": None},
                                   minimal("identify", known=True), minimal("group"), minimal("alias")])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        matomo.translate(event, SETTINGS)


def test_bulk_is_split_into_requests_of_100_hits():
    requests = matomo.translate_batch([minimal("page")] * 150, SETTINGS)
    assert [len(orjson.loads(r.body)["requests"]) for r in requests] == [100, 50]


def test_interpret_reads_bulk_errors_and_text():
    assert matomo.interpret(400, b'{"status": "error", "tracked": 0, "message": "token_auth is invalid"}') == (
        "token_auth is invalid")
    assert matomo.interpret(400, b'{"status": "success", "tracked": 2, "invalid": 1, "invalid_indices": [1]}') == (
        "invalid requests [1]")
    assert matomo.interpret(400, b'{"status": "error", "tracked": 0}') == "status error"
    assert matomo.interpret(400, b"Custom timestamp is 100000 seconds old, requires &token_auth") is not None
    assert matomo.interpret(500, b"<html>error</html>") is None
