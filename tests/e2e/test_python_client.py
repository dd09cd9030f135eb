"""The official analytics-python client, unchanged, pointed at a running `segue serve`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from segment.analytics import Client
from segment.analytics.request import APIError
from segment.analytics.version import VERSION

from tests.e2e.e2e_checks import assert_clean, assert_timestamps, by_message_id

pytestmark = pytest.mark.slow

HISTORICAL = datetime(2025, 11, 20, 12, 30, 15, 250000, tzinfo=UTC)

# method -> (keyword arguments for the client, fields expected on the stored message)
CALLS: dict[str, tuple[dict, dict]] = {
    "identify": (
        {"user_id": "user-42", "traits": {"email": "ada@example.com", "plan": "pro", "logins": 3}},
        {"userId": "user-42", "traits": {"email": "ada@example.com", "plan": "pro", "logins": 3}},
    ),
    "track": (
        {
            "user_id": "user-42",
            "event": "Order Completed",
            "properties": {"revenue": 42.5, "currency": "EUR", "products": [{"sku": "sku-1", "quantity": 2}]},
            "context": {"ip": "203.0.113.7", "locale": "fr-FR"},
            "integrations": {"All": False, "Mixpanel": True},
            "timestamp": HISTORICAL,
        },
        {
            "userId": "user-42",
            "event": "Order Completed",
            "properties": {"revenue": 42.5, "currency": "EUR", "products": [{"sku": "sku-1", "quantity": 2}]},
            "integrations": {"All": False, "Mixpanel": True},
        },
    ),
    "page": (
        {"anonymous_id": "anon-7", "category": "Docs", "name": "Install", "properties": {"path": "/docs/install"}},
        {"anonymousId": "anon-7", "category": "Docs", "name": "Install", "properties": {"path": "/docs/install"}},
    ),
    "screen": (
        {"user_id": "user-42", "name": "Settings", "properties": {"tab": "privacy"}},
        {"userId": "user-42", "name": "Settings", "properties": {"tab": "privacy"}},
    ),
    "group": (
        {"user_id": "user-42", "group_id": "acme", "traits": {"name": "Acme Inc", "employees": 120}},
        {"userId": "user-42", "groupId": "acme", "traits": {"name": "Acme Inc", "employees": 120}},
    ),
    "alias": (
        {"previous_id": "anon-7", "user_id": "user-42"},
        {"previousId": "anon-7", "userId": "user-42"},
    ),
}
IDENTITY_FIELDS = ("userId", "anonymousId")


@pytest.fixture(scope="module")
def source(live_server) -> dict:
    return live_server.create_source("python-backend", "python")


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("method", list(CALLS))
def test_each_call_is_stored_as_sent(live_server, source, method, gzip):
    arguments, expected = CALLS[method]
    client = Client(source["write_key"], host=live_server.url, sync_mode=True, gzip=gzip)

    success, sent = getattr(client, method)(**arguments)

    assert success
    stored = by_message_id(live_server.events(source["name"]))[sent["messageId"]]
    assert stored["type"] == method
    for field, value in expected.items():
        assert stored[field] == value, field
    for field in IDENTITY_FIELDS:
        if field not in expected:
            assert stored.get(field) is None, field
    assert stored["integrations"] == arguments.get("integrations", {})
    assert stored["context"]["library"] == {"name": "analytics-python", "version": VERSION}
    for key, value in arguments.get("context", {}).items():
        assert stored["context"][key] == value
    assert_timestamps(stored, sent["timestamp"])
    assert_clean(stored)


def test_batched_client_delivers_every_message_once(live_server, source):
    errors: list = []
    client = Client(
        source["write_key"], host=live_server.url, gzip=True, upload_size=40, on_error=lambda e, batch: errors.append(e)
    )

    sent_ids = [client.track(user_id=f"user-{n % 7}", event="Clicked", properties={"n": n})[1]["messageId"]
                for n in range(150)]
    client.flush()
    client.join()

    stored = by_message_id(live_server.events(source["name"]))
    assert errors == []
    assert set(sent_ids) <= set(stored)
    assert [stored[message_id]["properties"]["n"] for message_id in sent_ids] == list(range(150))


def test_unknown_write_key_is_refused(live_server):
    client = Client("not-a-write-key", host=live_server.url, sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track(user_id="user-1", event="Dropped")

    assert raised.value.status == 401
