"""Send one test event through a destination now, as Segment's Event Tester does.

The event goes straight from the control plane to the vendor (not through the event log, the
router or retries) so the user sees at once what was sent and what came back. Secrets are
masked in the report.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Iterable, Mapping

import httpx

from segue.errors import ConfigError
from segue.pipeline.addresses import httpx_client
from segue.pipeline.delivery import redactor

TIMEOUT_SECONDS = 5.0  # a destination must answer within 5 s (spec section 4.4)
SHOWN_BODY_CHARS = 2_000


def sample_event(event_type: str) -> dict:
    """A realistic event of `event_type` with a fresh messageId and the current time."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    common = {
        "type": event_type, "messageId": f"segue-test-{uuid.uuid4()}", "timestamp": now, "receivedAt": now,
        "sentAt": now, "userId": "test-user-1", "anonymousId": "test-anonymous-1",
        "context": {"library": {"name": "segue-event-tester", "version": "1"}, "ip": "127.0.0.1"},
        "integrations": {},
    }
    return {**common, **_SAMPLE_FIELDS.get(event_type, {})}


_SAMPLE_FIELDS = {
    "track": {"event": "Segue Test Event", "properties": {"plan": "test", "revenue": 1.5}},
    "identify": {"traits": {"email": "test@example.com", "name": "Test User"}},
    "page": {"name": "Test Page", "properties": {"url": "https://example.com/test", "path": "/test", "title": "Test"}},
    "screen": {"name": "Test Screen", "properties": {}},
    "group": {"groupId": "test-group-1", "traits": {"name": "Test Company"}},
    "alias": {"previousId": "test-anonymous-1"},
}


def send_test_event(destination: Any, settings: Any, secrets: Iterable[str], event_type: str, event: Mapping | None,
                    allow_private: bool = False) -> dict:
    """Translate the event for `destination` and send it; a report of every request made.

    Like delivery, it reaches only public addresses unless `allow_private` (segue/pipeline/addresses.py).
    """
    translate = destination.translations.get(event_type)
    if translate is None:
        raise ConfigError(f"{destination.name} does not take {event_type} events; it takes {', '.join(destination.methods)}")
    message = dict(event) if event else sample_event(event_type)
    requests = translate(message, settings)
    redact = redactor(secrets)
    with httpx_client(allow_private, timeout=TIMEOUT_SECONDS) as client:
        exchanges = [_exchange(client, request, redact) for request in requests]
    delivered = bool(exchanges) and all(200 <= (item["response"] or {}).get("status", 0) < 300 for item in exchanges)
    return {"type": event_type, "event": message, "delivered": delivered, "requests": exchanges}


def _exchange(client: httpx.Client, request: Any, redact) -> dict:
    sent = {
        "method": request.method,
        "url": redact(request.url),
        "headers": {name: redact(value) for name, value in request.headers.items()},
        "body": redact(_text(request.body)),
    }
    try:
        response = client.request(request.method, request.url, headers=dict(request.headers), content=request.body)
    except httpx.HTTPError as error:
        return {"request": sent, "response": None, "error": f"{type(error).__name__}: {error}"}
    received = {"status": response.status_code, "body": redact(response.text[:SHOWN_BODY_CHARS])}
    return {"request": sent, "response": received, "error": None}


def _text(body: bytes | None) -> str:
    return "" if body is None else body[:SHOWN_BODY_CHARS].decode("utf-8", "replace")
