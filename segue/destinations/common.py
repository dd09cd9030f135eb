"""Small pure helpers shared by the translation modules: JSON and form bodies, auth, event
fields, identity and e-commerce fields, times, and vendor error bodies.

Translations raise only `segue.errors.InvalidMessage` (permanent: the same event can never be
translated) and return `[]` when an event has nothing to send to that destination.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlencode

import orjson
from pydantic import SecretStr

from segue.destinations.contract import METHODS, Preset, Request
from segue.errors import InvalidMessage
from segue.spec.timestamps import format_ms, parse_ms

JSON_HEADERS = {"Content-Type": "application/json"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
ORDER_COMPLETED = ("Order Completed", "Completed Order")  # Segment e-commerce v2 name and its v1 alias
WEBSITE_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^/:?#\s]+)", re.IGNORECASE)


def encode_json(value: Any) -> bytes:
    """Compact JSON bytes; values JSON cannot carry raise InvalidMessage."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError) as error:
        raise InvalidMessage(f"cannot encode the event as JSON: {error}", code="unencodable") from None


def json_request(url: str, body: Any, headers: Mapping[str, str] | None = None, method: str = "POST") -> Request:
    """A request with a JSON body and `Content-Type: application/json`."""
    return Request(method=method, url=url, headers={**JSON_HEADERS, **(headers or {})}, body=encode_json(body))


def form_request(url: str, form: Mapping, headers: Mapping[str, str] | None = None, method: str = "POST") -> Request:
    """A request with a form-encoded body and `Content-Type: application/x-www-form-urlencoded`."""
    return Request(method=method, url=url, headers={**FORM_HEADERS, **(headers or {})}, body=urlencode(form).encode())


def bearer(token: SecretStr) -> dict[str, str]:
    """The `Authorization: Bearer <token>` header."""
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


def not_connected(vendor: str) -> InvalidMessage:
    """The error for an OAuth destination whose "Log in to <vendor>" has not been done."""
    message = f"{vendor} is not connected: log in to {vendor} from the destination's settings"
    return InvalidMessage(message, code="not_connected")


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


def iso_time(event: Mapping) -> str | None:
    """The event's `timestamp` as ISO-8601 UTC with milliseconds, None when absent."""
    ms = event_ms(event)
    return None if ms is None else format_ms(ms)


def unix_seconds(value: Any) -> int | None:
    """Unix seconds of a date given as ISO-8601 text or as a number of seconds, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)).timestamp())


def require_event_name(event: Mapping) -> str:
    """A track call's event name; InvalidMessage without one."""
    name = text(event, "event")
    if name is None:
        raise InvalidMessage("track needs an event name", code="missing_field")
    return name


def require_group_id(event: Mapping) -> str:
    """A group call's groupId; InvalidMessage without one."""
    group_id = text(event, "groupId")
    if group_id is None:
        raise InvalidMessage("group needs a groupId", code="missing_field")
    return group_id


def traits_of(event: Mapping) -> dict:
    """identify/group `traits`, else the user traits a client copied into `context.traits`."""
    if event.get("type") in ("identify", "group"):
        return obj(event, "traits")
    return obj(event, "context.traits")


def trait(traits: Mapping, camel: str, snake: str | None = None) -> Any:
    """A reserved trait read under its camelCase or snake_case spelling (spec 2)."""
    value = traits.get(camel)
    return traits.get(snake) if value is None and snake else value


def full_name(traits: Mapping) -> str | None:
    """The `name` trait (a non-empty string), else first and last name joined, else None."""
    name = traits.get("name")
    if isinstance(name, str) and name:
        return name
    parts = [trait(traits, "firstName", "first_name"), trait(traits, "lastName", "last_name")]
    joined = " ".join(part for part in parts if isinstance(part, str) and part)
    return joined or None


def website_domain(value: str | None) -> str | None:
    """The host of a website or domain trait, lowercased, without `www.` (None without a dot)."""
    match = WEBSITE_HOST.match(value or "")
    return match.group(1).lower() if match and "." in match.group(1) else None


def is_order_completed(event: Mapping) -> bool:
    """A track call of Segment's `Order Completed` semantic event (or its v1 name)."""
    return event.get("type") == "track" and event.get("event") in ORDER_COMPLETED


def products_of(properties: Mapping) -> list[dict]:
    """The `products` array of an e-commerce event, objects only."""
    products = properties.get("products")
    return [dict(item) for item in products if isinstance(item, Mapping)] if isinstance(products, list) else []


def order_id(properties: Mapping) -> str | None:
    """An e-commerce event's order id under Segment's spellings."""
    return text(properties, "order_id") or text(properties, "orderId")


def first(values: Iterable[Any]) -> Any:
    """The first value that is not None, else None."""
    return next((value for value in values if value is not None), None)


def chunks(items: Sequence, size: int) -> Iterator[list]:
    """`items` in consecutive lists of at most `size`."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


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


def coded_message(body: bytes, label: str = "code") -> str | None:
    """A JSON error's `message`, after `<label>: ` when that is a string; else the plain-text body."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        prefix = parsed.get(label)
        return f"{prefix}: {parsed['message']}" if isinstance(prefix, str) else parsed["message"]
    return error_text(body)


def joined_fields(body: bytes, keys: Sequence[str]) -> str | None:
    """The present `keys` of a JSON error object joined by `: ` (`code: message`), else None."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not any(parsed.get(key) for key in keys):
        return None
    return ": ".join(str(parsed[key]) for key in keys if parsed.get(key))


def listed_errors(parsed: Any, describe: Callable[[Any], str]) -> str | None:
    """Each item of a parsed JSON error's non-empty `errors` list described, joined by `; `, else None."""
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    return "; ".join(describe(error) for error in errors) if isinstance(errors, list) and errors else None
