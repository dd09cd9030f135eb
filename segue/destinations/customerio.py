"""Customer.io: people and their events through the Journeys Track API (v1).

identify adds or updates a person (PUT /customers/{id}); track, page and screen become events
of that person, or anonymous events (POST /events) before the person is known; alias merges
the anonymous profile into the known one. Auth is HTTP Basic with the site id and API key.

Device mode runs Customer.io's JavaScript snippet on the website instead (`device/customerio.js`,
site id and region only: the API key never reaches browsers): the `_cio` queue and
`https://assets.customer.io/assets/track.js` (`track-eu.js` in the EU) with automatic page
views off, then identify becomes `_cio.identify({id: userId, ...traits, created_at})` (the
snippet needs an id, so anonymous identify calls are not sent), track
`_cio.track(event, properties)` and page `_cio.page(url, properties)`.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations.common import (
    basic_auth,
    compact,
    error_text,
    event_ms,
    event_seconds,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    stable_hash,
    text,
    trait,
    unix_seconds,
)
from segue.destinations.contract import Destination, DestinationSettings, Device, Request
from segue.errors import InvalidMessage

HOSTS = {"US": "https://track.customer.io/api/v1", "EU": "https://track-eu.customer.io/api/v1"}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID = re.compile(rf"[0-7][{CROCKFORD}]{{25}}")


class Settings(DestinationSettings):
    site_id: str = Field(title="Site ID", description="The workspace's Track API site id.")
    api_key: SecretStr = Field(title="API Key", description="The workspace's Track API key.")
    region: Literal["US", "EU"] = Field("US", description="The account's data center.")


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": basic_auth(settings.site_id, settings.api_key.get_secret_value())}


def _person_url(settings: Settings, person_id: str, suffix: str = "") -> str:
    return f"{HOSTS[settings.region]}/customers/{quote(person_id, safe='')}{suffix}"


def event_id(event: dict) -> str | None:
    """A ULID for deduplication: messageId when it already is one, else one derived from it.

    Derived ids carry the event time in their first 48 bits and a hash of messageId in the
    other 80, so the same event always gets the same id.
    """
    message_id = text(event, "messageId")
    if message_id is None:
        return None
    if ULID.fullmatch(message_id.upper()):
        return message_id.upper()
    ms = max(event_ms(event) or 0, 0) % (1 << 48)
    value = (ms << 80) | int(stable_hash(message_id, 20), 16)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: add or update the person (by userId, else by email) with the traits."""
    traits = obj(event, "traits")
    person_id = text(event, "userId") or text(traits, "email")
    if person_id is None:
        return []  # Customer.io keeps no profile without an identifier
    created = trait(traits, "createdAt", "created_at")
    attributes = {key: value for key, value in traits.items() if key not in ("createdAt", "created_at")}
    extra = {"created_at": unix_seconds(created), "anonymous_id": text(event, "anonymousId")}
    body = {**attributes, **compact(extra)}
    return [json_request(_person_url(settings, person_id), body, _headers(settings), method="PUT")]


def _event(event: dict, settings: Settings, name: str, kind: str | None) -> list[Request]:
    body = compact({
        "name": name, "type": kind, "data": obj(event, "properties"), "timestamp": event_seconds(event),
        "id": event_id(event),
    })
    user_id, anonymous_id = text(event, "userId"), text(event, "anonymousId")
    if user_id:
        return [json_request(_person_url(settings, user_id, "/events"), body, _headers(settings))]
    if anonymous_id:
        url = f"{HOSTS[settings.region]}/events"
        return [json_request(url, {**body, "anonymous_id": anonymous_id}, _headers(settings))]
    raise InvalidMessage("Customer.io needs a userId or an anonymousId", code="missing_field")


def track(event: dict, settings: Settings) -> list[Request]:
    """track: an event of the person (or an anonymous event) named after the Segment event."""
    return _event(event, settings, require_event_name(event), None)


def page(event: dict, settings: Settings) -> list[Request]:
    """page: a `page` event named after the page URL (else its path or name; none: not sent)."""
    candidates = ("properties.url", "context.page.url", "properties.path", "context.page.path", "name")
    name = next((text(event, path) for path in candidates if text(event, path)), None)
    return _event(event, settings, name, "page") if name else []


def screen(event: dict, settings: Settings) -> list[Request]:
    """screen: a `screen` event named after the screen (no name: not sent)."""
    name = text(event, "name") or text(event, "properties.name")
    return _event(event, settings, name, "screen") if name else []


def alias(event: dict, settings: Settings) -> list[Request]:
    """alias: merge the person known as previousId into the person known as userId."""
    user_id, previous_id = text(event, "userId"), text(event, "previousId")
    if user_id is None or previous_id is None:
        raise InvalidMessage("alias needs a userId and a previousId", code="missing_field")
    body = {"primary": {"id": user_id}, "secondary": {"id": previous_id}}
    return [json_request(f"{HOSTS[settings.region]}/merge_customers", body, _headers(settings))]


def interpret(status: int, body: bytes) -> str | None:
    """`{"meta": {"error": ...}}` or `{"meta": {"errors": [...]}}`, else the plain-text body."""
    parsed = json_or_none(body)
    meta = parsed.get("meta") if isinstance(parsed, dict) else None
    if isinstance(meta, dict) and (meta.get("error") or meta.get("errors")):
        errors = meta.get("errors") or [meta.get("error")]
        return "; ".join(str(error) for error in errors)
    return error_text(body)


METHODS = ("track", "identify", "page", "screen", "alias")

DEVICE = Device(plugin="customerio.js", settings=("site_id", "region"), methods=("page", "track", "identify"))

DESTINATION = Destination(
    slug="customerio",
    name="Customer.io",
    categories=("Email Marketing", "SMS & Push Notifications"),
    description=(
        "Messaging automation: email, push and SMS campaigns triggered by what people do. "
        "Identify keeps each person's attributes current; track, page and screen calls record "
        "their activity, anonymous activity included; alias merges two profiles into one."
    ),
    docs_url="https://docs.customer.io/api/track/",
    settings=Settings,
    translations={"track": track, "identify": identify, "page": page, "screen": screen, "alias": alias},
    modes=("cloud", "device"),
    platforms=("browser", "mobile", "server"),
    device=DEVICE,
    replay=True,
    presets=method_presets(METHODS),
    interpret=interpret,
)
