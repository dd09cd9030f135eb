"""Spec section 7 vectors 1, 3, 4, 5 as enriched events, and the columns they must produce."""

from __future__ import annotations

from segue.spec.enrich import enrich, make_envelope
from segue.spec.timestamps import parse_ms

RECEIVED_AT = "2012-12-02T00:30:13.100Z"
TIMESTAMP = "2012-12-02T00:30:12.984Z"
COMMON = {"id", "user_id", "received_at", "timestamp", "original_timestamp", "uuid_ts"}


def enriched(body: dict, message_id: str) -> dict:
    """`body` as the Tracking API stores it, received at RECEIVED_AT with a fixed messageId."""
    envelope = make_envelope(body, parse_ms(RECEIVED_AT, "receivedAt"), None, batch=False)
    return enrich(dict(body), envelope, new_id=lambda: message_id)


def vector_1() -> dict:
    return enriched({
        "type": "track", "userId": "019mr8mf4r", "event": "Item Purchased",
        "properties": {"name": "Leap to Conclusions Mat", "revenue": 14.99},
        "context": {"ip": "24.5.68.47"}, "timestamp": TIMESTAMP,
    }, "msg-v1")


def vector_3() -> dict:
    return enriched({"type": "track", "userId": "u-3", "event": "Register", "timestamp": TIMESTAMP,
                     "properties": {"plan": "Pro Annual", "accountType": "Facebook"}}, "msg-v3")


def vector_4_identify() -> dict:
    return enriched({"type": "identify", "userId": "u-4", "timestamp": TIMESTAMP,
                     "traits": {"address": {"street": "6th Street"}, "email": "u4@example.com"},
                     "context": {"app": {"version": "2.1.0"}}}, "msg-v4-identify")


def vector_4_track() -> dict:
    return enriched({"type": "track", "userId": "u-4", "event": "Product Viewed", "timestamp": TIMESTAMP,
                     "context": {"app": {"version": "2.1.0"}},
                     "properties": {"product_id": {"sku": "G-32"}, "tags": ["507f1", "505bd"]}}, "msg-v4-track")


def vector_5() -> dict:
    return enriched({"type": "track", "userId": "u-5", "event": "selected gift", "timestamp": TIMESTAMP,
                     "properties": {"event": "birthday", "type": "cake"}}, "msg-v5")


TRACKS_COLUMNS = COMMON | {"event", "event_text"}
EXPECTED_TABLES = {
    "tracks": TRACKS_COLUMNS | {"context_ip", "context_app_version"},
    "item_purchased": TRACKS_COLUMNS | {"context_ip", "name", "revenue"},
    "register": TRACKS_COLUMNS | {"plan", "account_type"},
    "identifies": COMMON | {"context_app_version", "address_street", "email"},
    "users": {"id", "received_at", "uuid_ts", "address_street", "email"},
    "product_viewed": TRACKS_COLUMNS | {"context_app_version", "product_id_sku", "tags"},
    "selected_gift": TRACKS_COLUMNS | {"type"},
}


def all_vectors() -> list[dict]:
    return [vector_1(), vector_3(), vector_4_identify(), vector_4_track(), vector_5()]
