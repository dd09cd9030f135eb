"""Klaviyo: profiles and events through the JSON:API REST API (revision pinned in a header).

identify creates or updates a profile (POST /api/profile-import); track creates an event of a
metric named after the Segment event, with the profile it belongs to (POST /api/events). A
batch goes to Bulk Create Events (POST /api/event-bulk-create-jobs, up to 1,000 events). Events
carry messageId as `unique_id`, Klaviyo's dedup key per profile and metric. Auth: the private
API key in `Authorization: Klaviyo-API-Key <key>`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from segue.destinations._email import e164, split_traits
from segue.destinations.common import (
    compact,
    first,
    is_order_completed,
    iso_time,
    json_or_none,
    json_request,
    listed_errors,
    method_presets,
    number,
    obj,
    products_of,
    require_event_name,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

API = "https://a.klaviyo.com/api"
REVISION = "2026-04-15"  # the stable revision whose OpenAPI specification these bodies follow
BATCH_SIZE = 1000  # events per Bulk Create Events request (documented maximum)
TRAITS = (
    (("email",), "email"), (("phone",), "phone_number"), (("firstName", "first_name"), "first_name"),
    (("lastName", "last_name"), "last_name"), (("title",), "title"), (("avatar",), "image"),
)
LOCATION = (("address1", "street"), ("city", "city"), ("country", "country"), ("region", "state"), ("zip", "postalCode"))


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="Private API Key", description="A private API key with the events:write and profiles:write scopes.")


def _headers(settings: Settings) -> dict[str, str]:
    return {
        "Authorization": f"Klaviyo-API-Key {settings.api_key.get_secret_value()}", "revision": REVISION,
        "Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json",
    }


def _location(traits: dict) -> dict:
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}
    return compact({field: address.get(segment) for field, segment in LOCATION})


def _organization(traits: dict) -> str | None:
    company = traits.get("company")
    return text(company, "name") if isinstance(company, dict) else text(traits, "company")


def profile(event: dict, with_properties: bool) -> dict:
    """Profile attributes: ids, reserved traits as Klaviyo fields, other traits as properties."""
    mapped, custom = split_traits(traits_of(event), TRAITS)
    raw_phone = mapped.pop("phone_number", None)
    mapped["phone_number"] = e164(raw_phone)
    if raw_phone is not None and mapped["phone_number"] is None:
        custom["phone"] = raw_phone  # Klaviyo refuses a phone_number not in E.164: keep it as a property
    ids = {"external_id": text(event, "userId"), "anonymous_id": text(event, "anonymousId")}
    if not (mapped.get("email") or mapped["phone_number"] or any(ids.values())):
        raise InvalidMessage("Klaviyo needs a userId, an anonymousId, an email or a phone", code="missing_field")
    extra = {"organization": _organization(custom), "location": _location(custom) or None}
    custom = {key: value for key, value in custom.items() if key not in ("address", "company")}
    properties = {"properties": custom or None} if with_properties else {}
    return compact({**ids, **mapped, **extra, **properties})


def _resource(kind: str, attributes: dict) -> dict:
    return {"data": {"type": kind, "attributes": attributes}}


def _event(event: dict, name: str, properties: dict, value: object, unique_id: str | None) -> dict:
    return compact({
        "properties": properties, "time": iso_time(event), "value": value,
        "value_currency": text(properties, "currency") if value is not None else None,
        "unique_id": unique_id, "metric": _resource("metric", {"name": name}),
    })


def events_of(event: dict) -> list[dict]:
    """The Klaviyo event attributes (without profile) of one track call.

    `Order Completed` also records an `Ordered Product` event per product, as Klaviyo's own
    e-commerce integrations do, each with its own unique_id derived from messageId.
    """
    name = require_event_name(event)
    properties, message_id = obj(event, "properties"), text(event, "messageId")
    value = first(number(properties, key) for key in ("revenue", "total", "value"))
    events = [_event(event, name, properties, value, message_id)]
    if is_order_completed(event):
        for index, product in enumerate(products_of(properties)):
            product_id = f"{message_id}-{index}" if message_id else None
            product = {**product, "currency": text(properties, "currency"), "order_id": text(properties, "order_id")}
            events.append(_event(event, "Ordered Product", compact(product), number(product, "price"), product_id))
    return events


def track(event: dict, settings: Settings) -> list[Request]:
    """track: POST /api/events for the event (and one per ordered product)."""
    who = {"profile": _resource("profile", profile(event, with_properties=False))}
    return [
        json_request(f"{API}/events", _resource("event", {**attributes, **who}), _headers(settings))
        for attributes in events_of(event)
    ]


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create or update the profile (POST /api/profile-import)."""
    body = _resource("profile", profile(event, with_properties=True))
    return [json_request(f"{API}/profile-import", body, _headers(settings))]


def _bulk_entry(event: dict) -> dict:
    who = _resource("profile", profile(event, with_properties=False))
    listed = [{"type": "event", "attributes": attributes} for attributes in events_of(event)]
    return {"type": "event-bulk-create", "attributes": {"profile": who, "events": {"data": listed}}}


def _by_event_count(entries: list[dict]) -> list[list[dict]]:
    """Consecutive groups of bulk entries holding at most BATCH_SIZE events in all."""
    groups: list[list[dict]] = []
    count = BATCH_SIZE
    for entry in entries:
        size = len(entry["attributes"]["events"]["data"])
        if count + size > BATCH_SIZE:
            groups.append([])
            count = 0
        groups[-1].append(entry)
        count += size
    return groups


def batch(events: list, settings: Settings) -> list[Request]:
    """Track calls through Bulk Create Events (1,000 a request); identify calls one by one."""
    tracks = [_bulk_entry(event) for event in events if event.get("type") == "track"]
    requests = []
    for part in _by_event_count(tracks):
        body = _resource("event-bulk-create-job", {"events-bulk-create": {"data": part}})
        requests.append(json_request(f"{API}/event-bulk-create-jobs", body, _headers(settings)))
    return requests + [r for event in events if event.get("type") == "identify" for r in identify(event, settings)]


def interpret(status: int, body: bytes) -> str | None:
    """JSON:API `{"errors": [{"code", "title", "detail", "source": {"pointer"}}]}`."""
    return listed_errors(json_or_none(body), _error)


def _error(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    pointer = text(error, "source.pointer")
    message = text(error, "detail") or text(error, "title") or text(error, "code") or "error"
    return f"{message} ({pointer})" if pointer else message


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="klaviyo",
    name="Klaviyo",
    categories=("Email Marketing", "Marketing Automation", "SMS & Push Notifications"),
    description=(
        "Email and SMS marketing built on customer data. Identify creates or updates the Klaviyo "
        "profile with its reserved fields, location and custom properties; track records an event "
        "of a metric that can trigger flows, with its value, and an Ordered Product event per item of an order."
    ),
    docs_url="https://developers.klaviyo.com/en/reference/create_event",
    settings=Settings,
    translations={"track": track, "identify": identify},
    replay=True,
    presets=method_presets(METHODS),
    batch=batch,
    batch_size=BATCH_SIZE,
    rate_limit=3500 / 60,  # Create Event steady limit 3,500/min (burst 350/s); profile-import: 750/min
    interpret=interpret,
)
