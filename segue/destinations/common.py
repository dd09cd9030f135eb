"""Small pure helpers shared by the translation modules: JSON bodies, auth, event fields.

Translations raise only `segue.errors.InvalidMessage` (permanent: the same event can never be
translated) and return `[]` when an event has nothing to send to that destination.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Iterable, Mapping

import orjson

from segue.destinations.contract import METHODS, Preset, Request
from segue.errors import InvalidMessage
from segue.spec.timestamps import parse_ms

JSON_HEADERS = {"Content-Type": "application/json"}


def encode_json(value: Any) -> bytes:
    """Compact JSON bytes; values JSON cannot carry raise InvalidMessage."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError) as error:
        raise InvalidMessage(f"cannot encode the event as JSON: {error}", code="unencodable") from None


def json_request(url: str, body: Any, headers: Mapping[str, str] | None = None, method: str = "POST") -> Request:
    """A request with a JSON body and `Content-Type: application/json`."""
    return Request(method=method, url=url, headers={**JSON_HEADERS, **(headers or {})}, body=encode_json(body))


def basic_auth(username: str, password: str = "") -> str:
    """An `Authorization` header value for HTTP Basic auth."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def dig(event: Mapping, path: str) -> Any:
    """The value at a dotted path (`context.page.url`), or None when any step is missing."""
    value: Any = event
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def obj(event: Mapping, path: str) -> dict:
    """The object at a dotted path, or {} when it is missing or not an object."""
    value = dig(event, path)
    return dict(value) if isinstance(value, Mapping) else {}


def text(event: Mapping, path: str) -> str | None:
    """A non-empty string (numbers are turned into strings) at a dotted path, else None."""
    value = dig(event, path)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value if isinstance(value, str) and value else None


def number(event: Mapping, path: str) -> int | float | None:
    """A number at a dotted path (booleans excluded), else None."""
    value = dig(event, path)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def require(event: Mapping, field: str) -> str:
    """The non-empty string field `field`, or InvalidMessage naming it."""
    value = text(event, field)
    if value is None:
        raise InvalidMessage(f"{field} is required for this destination", code="missing_field")
    return value


def event_ms(event: Mapping) -> int | None:
    """The event's `timestamp` in epoch milliseconds, None when absent."""
    value = event.get("timestamp")
    return None if value is None else parse_ms(value, "timestamp")


def event_seconds(event: Mapping) -> int | None:
    """The event's `timestamp` in whole epoch seconds, None when absent."""
    ms = event_ms(event)
    return None if ms is None else ms // 1000


def traits_of(event: Mapping) -> dict:
    """identify/group `traits`, else the user traits a client copied into `context.traits`."""
    if event.get("type") in ("identify", "group"):
        return obj(event, "traits")
    return obj(event, "context.traits")


def trait(traits: Mapping, camel: str, snake: str | None = None) -> Any:
    """A reserved trait read under its camelCase or snake_case spelling (spec 2)."""
    value = traits.get(camel)
    return traits.get(snake) if value is None and snake else value


def compact(mapping: Mapping) -> dict:
    """A copy without the keys whose value is None."""
    return {key: value for key, value in mapping.items() if value is not None}


def stable_hash(value: str, length: int = 32) -> str:
    """A deterministic hex digest prefix, for vendor ids derived from messageId."""
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def method_presets(methods: Iterable[str]) -> tuple[Preset, ...]:
    """One `<Method> Calls` preset per supported method, triggered on `type = "<method>"`."""
    return tuple(Preset(f"{m.capitalize()} Calls", f'type = "{m}"', m, {}) for m in METHODS if m in methods)


def error_text(body: bytes, limit: int = 300) -> str | None:
    """A short printable form of a plain-text error body, None when empty."""
    snippet = body[:limit].decode("utf-8", "replace").strip()
    return snippet or None


def json_or_none(body: bytes) -> Any:
    """The parsed JSON body, None when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
