"""Heap: server-side events, user and account properties through Heap's server-side APIs.

Endpoints (host https://heapanalytics.com, or https://c.eu.heap-api.com for EU data centers):
POST /api/track (one event, or `events: [...]` in bulk, 1000 at most), POST /api/v1/identify
(moves an anonymous Heap user_id's events to an identity), POST /api/add_user_properties
(`users: [...]` in bulk) and POST /api/add_account_properties (`accounts: [...]` in bulk).
Auth is the environment's `app_id` in the body. Known users are sent by identity (userId);
anonymous ones by a numeric Heap user_id derived from anonymousId. messageId is the
`idempotency_key`. Heap property values are numbers or strings under 1024 characters.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from segue.destinations.common import (
    chunks,
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    require_group_id,
    stable_hash,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

HOSTS = {"US": "https://heapanalytics.com", "EU": "https://c.eu.heap-api.com"}
BATCH_SIZE = 1000  # bulk track, users and accounts: "a max of 1000 ... per request"
VALUE_LENGTH = 1023  # "a number or string with fewer than 1024 characters"
BULK_KEYS = {"/api/track": "events", "/api/add_user_properties": "users", "/api/add_account_properties": "accounts"}


class Settings(DestinationSettings):
    app_id: str = Field(title="App ID", description="The Heap environment id (app_id) to send to.")
    region: Literal["US", "EU"] = Field("US", description="The data center of the Heap account.")
    account_id_property: str = Field(
        "account_id", description="The user property Heap joins accounts on; group calls set it to the groupId.")


def heap_user_id(anonymous_id: str) -> str:
    """A stable Heap user_id (a number below 2^53, as a string) standing for an anonymousId."""
    return str(int(stable_hash(anonymous_id, 14), 16) % 2**53)


def flatten(properties: dict, prefix: str = "") -> dict:
    """Heap properties: nested objects flattened to dotted keys, values as numbers or short strings."""
    flat: dict = {}
    for key, value in properties.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = _value(value)
    return flat


def _value(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):  # Heap stores arrays joined with "||"
        return "||".join(str(_value(item)) for item in value if item is not None)[:VALUE_LENGTH]
    return str(value)[:VALUE_LENGTH]


def _who(event: dict) -> dict:
    """`identity` for a known user, else the `user_id` derived from anonymousId (never both)."""
    user_id, anonymous_id = text(event, "userId"), text(event, "anonymousId")
    if user_id:
        return {"identity": user_id[:255]}
    if anonymous_id:
        return {"user_id": heap_user_id(anonymous_id)}
    raise InvalidMessage("Heap needs a userId or an anonymousId", code="missing_field")


def _identity(event: dict, purpose: str) -> str:
    user_id = text(event, "userId")
    if user_id is None:
        raise InvalidMessage(f"Heap needs a userId to {purpose}", code="missing_field")
    return user_id[:255]


def _request(settings: Settings, path: str, body: dict) -> Request:
    return json_request(f"{HOSTS[settings.region]}{path}", {"app_id": settings.app_id, **body})


def _track_body(event: dict, name: str, properties: dict) -> dict:
    return compact({
        **_who(event), "event": name[:1024], "timestamp": text(event, "timestamp"),
        "properties": flatten(properties), "idempotency_key": text(event, "messageId"),
    })


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a server-side event named after the Segment event."""
    body = _track_body(event, require_event_name(event), obj(event, "properties"))
    return [_request(settings, "/api/track", body)]


def page(event: dict, settings: Settings) -> list[Request]:
    """page: a `Page Viewed` event with the page's name and properties."""
    properties = {**obj(event, "properties"), **compact({"name": text(event, "name")})}
    return [_request(settings, "/api/track", _track_body(event, "Page Viewed", properties))]


def screen(event: dict, settings: Settings) -> list[Request]:
    """screen: a `Screen Viewed` event with the screen's name and properties."""
    properties = {**obj(event, "properties"), **compact({"name": text(event, "name")})}
    return [_request(settings, "/api/track", _track_body(event, "Screen Viewed", properties))]


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: move the anonymous user's events to the identity, then add the traits as properties.

    Heap's server-side APIs set properties by identity only: an anonymous identify sends nothing.
    """
    if text(event, "userId") is None:
        return []
    identity, anonymous_id = _identity(event, "identify a user"), text(event, "anonymousId")
    requests = []
    if anonymous_id:
        merge = compact({"identity": identity, "user_id": heap_user_id(anonymous_id),
                         "timestamp": text(event, "timestamp")})
        requests.append(_request(settings, "/api/v1/identify", merge))
    traits = user_properties(traits_of(event))
    if traits:
        requests.append(_request(settings, "/api/add_user_properties", {"identity": identity, "properties": traits}))
    return requests


def user_properties(traits: dict) -> dict:
    """Traits as Heap user properties, without `id` (reserved by Heap in every casing).

    Segment's `email` trait is already the lowercase key Heap's built-in Email property needs.
    """
    return flatten({key: value for key, value in traits.items() if key.lower() != "id"})


def group(event: dict, settings: Settings) -> list[Request]:
    """group: the account's properties, and the account id set on the user when known."""
    group_id = require_group_id(event)
    account = {"account_id": group_id, "properties": flatten(traits_of(event))}
    requests = [_request(settings, "/api/add_account_properties", account)]
    if text(event, "userId"):
        link = {"identity": _identity(event, "link a user"), "properties": {settings.account_id_property: group_id}}
        requests.append(_request(settings, "/api/add_user_properties", link))
    return requests


TRANSLATIONS = {"track": track, "page": page, "screen": screen, "identify": identify, "group": group}


def translate(event: dict, settings: Settings) -> list[Request]:
    """Any supported method: the requests of its translation."""
    method = event.get("type")
    if method not in TRANSLATIONS:
        raise InvalidMessage(f"Heap does not take {method!r} calls", code="unsupported_method")
    return TRANSLATIONS[method](event, settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: bulk track, bulk user and bulk account properties (1000 items each); identifies one by one."""
    bulk: dict[str, list] = {path: [] for path in BULK_KEYS}
    singles = []
    for request in (r for event in events for r in translate(event, settings)):
        path = request.url.removeprefix(HOSTS[settings.region])
        body = json_or_none(request.body)
        if path in bulk:
            bulk[path].append({key: value for key, value in body.items() if key != "app_id"})
        else:
            singles.append(request)
    return singles + [_request(settings, path, {BULK_KEYS[path]: part})
                      for path, items in bulk.items() for part in chunks(items, BATCH_SIZE)]


def interpret(status: int, body: bytes) -> str | None:
    """Heap's error: a JSON `error`/`message`, else the plain-text body."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict):
        message = parsed.get("error") or parsed.get("message")
        return str(message) if message else None
    return None if parsed is not None else error_text(body)


METHODS = ("track", "identify", "page", "screen", "group")

DESTINATION = Destination(
    slug="heap",
    name="Heap",
    categories=("Analytics",),
    description=(
        "Digital analytics that autocaptures every interaction. Track, page and screen calls "
        "become Heap server-side events, deduplicated by message id; identify merges the "
        "anonymous user into the known identity and adds user properties; group adds account "
        "properties and links the user to the account."
    ),
    docs_url="https://developers.heap.io/reference/server-side-apis-overview",
    settings=Settings,
    translations={method: TRANSLATIONS[method] for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
    rate_limit=250.0,  # bulk track: 15,000 events per minute per app_id (plus 30 requests / 30 s per identity)
)
