"""Enriched Segment events for destination tests: minimal and maximal, for every method."""

from __future__ import annotations

import copy

from segue.destinations.contract import METHODS

TIMESTAMP = "2024-03-05T14:07:09.123Z"
RECEIVED_AT = "2024-03-05T14:07:09.456Z"

# The fields each method requires (spec 1.7), beyond an id.
REQUIRED = {
    "track": {"event": "Order Completed"},
    "identify": {},
    "page": {},
    "screen": {},
    "group": {"groupId": "grp-42"},
    "alias": {"userId": "user-1234", "previousId": "anon-5678"},
}

# What enrichment always adds (spec 1.8, 1.9).
ENRICHED = {
    "messageId": "msg-3f2b1c0e-7d6a-4e8f-9b1a-2c3d4e5f6a7b",
    "timestamp": TIMESTAMP,
    "originalTimestamp": TIMESTAMP,
    "receivedAt": RECEIVED_AT,
}

CONTEXT = {
    "active": True,
    "app": {"name": "Segue Demo", "version": "3.1.4", "build": "314", "namespace": "dev.segue.demo"},
    "campaign": {"name": "spring", "source": "newsletter", "medium": "email", "term": "shoes", "content": "hero"},
    "device": {
        "id": "dev-1", "advertisingId": "7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB", "adTrackingEnabled": True,
        "manufacturer": "Apple", "model": "iPhone15,2", "name": "Ada's phone", "type": "ios", "version": "17.2",
    },
    "ip": "203.0.113.7",
    "library": {"name": "analytics-ios", "version": "4.1.8"},
    "locale": "fr-FR",
    "location": {
        "city": "Lyon", "country": "France", "region": "Auvergne-Rhône-Alpes", "latitude": 45.76, "longitude": 4.83,
    },
    "network": {"bluetooth": False, "carrier": "Orange", "cellular": True, "wifi": False},
    "os": {"name": "iOS", "version": "17.2"},
    "page": {"path": "/boutique", "referrer": "https://example.org/", "search": "?q=été", "title": "Boutique",
             "url": "https://shop.example.com/boutique?q=été"},
    "referrer": {"type": "dataxu", "id": "ref-9"},
    "screen": {"width": 1179, "height": 2556, "density": 3},
    "timezone": "Europe/Paris",
    "traits": {"email": "ada@example.com", "plan": "pro", "name": "Ada Lovelace"},
    "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)",
    "groupId": "grp-42",
    "channel": "mobile",
}

PROPERTIES = {
    "revenue": 42.5, "price": 21.25, "quantity": 2, "currency": "EUR", "productId": "sku-1",
    "name": "Crème brûlée 🍮", "url": "https://shop.example.com/boutique?q=été",
    "products": [{"product_id": "sku-1", "price": 21.25, "quantity": 2, "tags": ["sweet", "français"]}],
    "nested": {"level1": {"level2": {"level3": [1, 2.5, None, True, "ünïcödé"]}}},
    "empty": {}, "none": None, "flag": False,
}

TRAITS = {
    "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "name": "Ada Lovelace",
    "phone": "+33 6 12 34 56 78", "createdAt": "2015-02-23T22:28:55.111Z", "plan": "pro",
    "address": {"city": "Lyon", "country": "FR"}, "tags": ["vip", "béta"], "logins": 5,
}

MAXIMAL_FIELDS = {
    "track": {"event": "Order Completed", "properties": PROPERTIES},
    "identify": {"traits": TRAITS},
    "page": {"name": "Boutique", "category": "Shop", "properties": PROPERTIES},
    "screen": {"name": "Checkout", "properties": PROPERTIES},
    "group": {"groupId": "grp-42", "traits": {"name": "Analytical Engines Ltd", "employees": 12, "plan": "enterprise"}},
    "alias": {"previousId": "anon-5678"},
}


def minimal(method: str, *, known: bool = False) -> dict:
    """Only what the method requires, plus what enrichment adds; anonymous unless `known`."""
    event = {"type": method, **ENRICHED, **REQUIRED[method]}
    if method != "alias":
        event["userId" if known else "anonymousId"] = "user-1234" if known else "anon-5678"
    return event


def maximal(method: str) -> dict:
    """Every common field: both ids, full context, integrations, nested properties, unicode."""
    return copy.deepcopy({
        "type": method, **ENRICHED, "userId": "user-1234", "anonymousId": "anon-5678",
        "sentAt": TIMESTAMP, "context": CONTEXT, "version": 2,
        "integrations": {"All": True, "Amplitude": {"session_id": 1709647629000}, "Salesforce": False},
        **MAXIMAL_FIELDS[method],
    })


def all_events(methods=METHODS) -> list[dict]:
    """Minimal (anonymous and known) and maximal events of each method in `methods`."""
    events = []
    for method in methods:
        events += [minimal(method), minimal(method, known=True), maximal(method)]
    return events
