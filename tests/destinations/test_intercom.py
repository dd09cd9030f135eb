"""Intercom specifics: user keys, event metadata limits, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import intercom
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(intercom.Settings, {"accessToken": "tok"})


def test_user_keys_prefer_user_id_then_email():
    assert intercom.user_keys(minimal("track", known=True)) == {"user_id": "user-1234"}
    event = {**minimal("track"), "context": {"traits": {"email": "a@example.com"}}}
    assert intercom.user_keys(event) == {"email": "a@example.com"}


@pytest.mark.parametrize("method", ["track", "identify"])
def test_anonymous_users_without_email_send_nothing(method):
    assert intercom.DESTINATION.translations[method](minimal(method), SETTINGS) == []


def test_anonymous_group_only_upserts_the_company():
    (request,) = intercom.group(minimal("group"), SETTINGS)
    assert request.url.endswith("/companies")


def test_track_without_event_name_raises():
    with pytest.raises(InvalidMessage):
        intercom.track({**minimal("track", known=True), "event": ""}, SETTINGS)


def test_metadata_is_flat_limited_and_cleaned():
    properties = {f"key{i}": "x" * 300 for i in range(30)} | {"nested": {"a": 1}, "a.b$": 1}
    items = intercom.metadata(properties, "Signed Up")
    assert len(items) == intercom.MAX_METADATA
    assert all(len(value) == intercom.MAX_STRING for value in items.values())
    assert intercom.metadata({"a.b$": 1, "nested": {"a": 1}, "list": [1]}, "x") == {"ab": 1}


def test_order_revenue_becomes_a_monetary_amount_only_when_finite():
    assert intercom.metadata({"revenue": 10.5}, "Order Completed")["price"] == {"amount": 1050, "currency": "usd"}
    assert "price" not in intercom.metadata({"revenue": float("inf")}, "Order Completed")
    assert "price" not in intercom.metadata({"revenue": 10.5}, "Product Viewed")


def test_group_upserts_the_company_then_attaches_the_user():
    event = {**minimal("group", known=True), "traits": {"name": "Acme"}}
    company, attach = intercom.group(event, SETTINGS)
    assert company.url.endswith("/companies") and attach.url.endswith("/users")
    assert orjson.loads(attach.body)["companies"] == [{"company_id": "grp-42", "name": "Acme"}]


def test_interpret_reads_the_error_list():
    body = b'{"type": "error.list", "request_id": "r", "errors": [{"code": "not_found", "message": "User Not Found"}]}'
    assert intercom.interpret(404, body) == "not_found: User Not Found"
    assert intercom.interpret(500, b"oops") == "oops"
