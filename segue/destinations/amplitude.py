"""Amplitude: events through the HTTP V2 API (or the Batch Event Upload API).

Both endpoints take the same body, `{"api_key", "events": [...], "options"}`, and answer with
the same JSON errors. Every Segment method becomes one or two Amplitude events; identify and
group use the reserved `$identify` / `$groupidentify` event types that Amplitude's own SDKs send.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations.common import (
    compact,
    dig,
    event_ms,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    require_event_name,
    require_group_id,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

HOSTS = {"US": "https://api2.amplitude.com", "EU": "https://api.eu.amplitude.com"}
MIN_ID_LENGTH = 5  # Amplitude drops shorter ids unless options.min_id_length says otherwise
BATCH_SIZE = 2000  # events per request (HTTP V2 limit; the Batch API allows 20 MB)


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="The Amplitude project's API key.")
    secret_key: SecretStr | None = Field(None, description="The project's secret key (not needed to send events).")
    region: Literal["US", "EU"] = Field("US", description="The project's data residency.")
    use_batch_endpoint: bool = Field(False, description="Send to the Batch Event Upload API (higher per-user limits).")
    group_type: str = Field("company", description="The Amplitude group type that a group call's groupId belongs to.")


def _url(settings: Settings) -> str:
    return HOSTS[settings.region] + ("/batch" if settings.use_batch_endpoint else "/2/httpapi")


def _platform(event: dict) -> str | None:
    kind = text(event, "context.device.type")
    if kind:
        return {"ios": "iOS", "android": "Android"}.get(kind.lower(), kind)
    return "Web" if text(event, "context.library.name") in ("analytics.js", "analytics-next") else None


def _library(event: dict) -> str | None:
    name, version = text(event, "context.library.name"), text(event, "context.library.version")
    return f"{name}/{version}" if name and version else name


def _ad_id(event: dict) -> dict:
    ad_id, os_name = text(event, "context.device.advertisingId"), (text(event, "context.os.name") or "").lower()
    if not ad_id:
        return {}
    return {"idfa": ad_id} if os_name in ("ios", "ipados") else {"adid": ad_id} if os_name == "android" else {}


TEXT_FIELDS = (  # Amplitude event key <- Segment path
    ("user_id", "userId"), ("device_id", "anonymousId"), ("insert_id", "messageId"),
    ("app_version", "context.app.version"), ("os_name", "context.os.name"), ("os_version", "context.os.version"),
    ("device_manufacturer", "context.device.manufacturer"), ("device_model", "context.device.model"),
    ("carrier", "context.network.carrier"), ("language", "context.locale"), ("ip", "context.ip"),
    ("city", "context.location.city"), ("country", "context.location.country"), ("region", "context.location.region"),
)
NUMBER_FIELDS = (("location_lat", "context.location.latitude"), ("location_lng", "context.location.longitude"))


def _base(event: dict) -> dict:
    """The fields every Amplitude event gets: ids, time, insert_id, device and location."""
    base = {key: text(event, path) for key, path in TEXT_FIELDS}
    base.update({key: number(event, path) for key, path in NUMBER_FIELDS})
    base.update(time=event_ms(event), library=_library(event), platform=_platform(event), session_id=_session_id(event))
    if not (base["user_id"] or base["device_id"]):
        raise InvalidMessage("Amplitude needs a userId or an anonymousId", code="missing_field")
    return compact({**base, **_ad_id(event)})


def _session_id(event: dict) -> int | None:
    value = dig(event, "integrations.Amplitude.session_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _user_properties(event: dict) -> dict:
    traits = traits_of(event)
    return {"user_properties": {"$set": traits}} if traits else {}


def _revenue(properties: dict) -> dict:
    """Amplitude's top-level revenue keys, each only when it has the type Amplitude accepts."""
    quantity = number(properties, "quantity")
    return compact({
        "revenue": number(properties, "revenue"), "price": number(properties, "price"),
        "quantity": quantity if isinstance(quantity, int) else None,
        "productId": text(properties, "productId") or text(properties, "product_id"),
        "revenueType": text(properties, "revenueType") or text(properties, "revenue_type"),
    })


def _event(event: dict, event_type: str, **fields) -> dict:
    return {**_base(event), "event_type": event_type, **compact(fields)}


def track_events(event: dict) -> list[dict]:
    """track: event_type = the event name; properties, revenue fields and context traits."""
    name, properties = require_event_name(event), obj(event, "properties")
    return [_event(event, name, event_properties=properties, **_revenue(properties), **_user_properties(event))]


def page_events(event: dict) -> list[dict]:
    """page: `Viewed <name>`, or `Loaded a Page` when the page has no name."""
    name = text(event, "name")
    return [_event(event, f"Viewed {name}" if name else "Loaded a Page", event_properties=obj(event, "properties"))]


def screen_events(event: dict) -> list[dict]:
    """screen: `Viewed <name>`, or `Loaded a Screen` when the screen has no name."""
    name = text(event, "name")
    return [_event(event, f"Viewed {name}" if name else "Loaded a Screen", event_properties=obj(event, "properties"))]


def identify_events(event: dict) -> list[dict]:
    """identify: a `$identify` event that `$set`s the traits as user properties (none: nothing)."""
    traits = obj(event, "traits")
    return [_event(event, "$identify", user_properties={"$set": traits})] if traits else []


def group_events(event: dict, group_type: str) -> list[dict]:
    """group: put the user in the group; `$groupidentify` sets the group's traits too."""
    groups = {group_type: require_group_id(event)}
    events = [_event(event, "$identify", groups=groups, user_properties={"$set": groups})]
    traits = obj(event, "traits")
    return events + [_group_identify(event, groups, traits)] if traits else events


def _group_identify(event: dict, groups: dict, traits: dict) -> dict:
    """`$groupidentify` setting the group's properties (its own insert_id, derived from messageId)."""
    message_id = text(event, "messageId")
    insert_id = f"{message_id}-group" if message_id else None
    return _event(event, "$groupidentify", groups=groups, group_properties={"$set": traits}, insert_id=insert_id)


def amplitude_events(event: dict, settings: Settings) -> list[dict]:
    """The Amplitude events for one Segment event, whatever its method."""
    method = event.get("type")
    if method == "group":
        return group_events(event, settings.group_type)
    builders = {"track": track_events, "page": page_events, "screen": screen_events, "identify": identify_events}
    if method not in builders:
        raise InvalidMessage(f"Amplitude does not take {method!r} calls", code="unsupported_method")
    return builders[method](event)


def _options(events: list[dict]) -> dict:
    """`options.min_id_length` when an id is shorter than Amplitude's default minimum of 5."""
    lengths = [len(e[key]) for e in events for key in ("user_id", "device_id") if key in e]
    shortest = min(lengths, default=MIN_ID_LENGTH)
    return {"options": {"min_id_length": shortest}} if shortest < MIN_ID_LENGTH else {}


def upload(events: list[dict], settings: Settings) -> list[Request]:
    """One upload request carrying `events`."""
    if not events:
        return []
    body = {"api_key": settings.api_key.get_secret_value(), "events": events, **_options(events)}
    return [json_request(_url(settings), body, {"Accept": "*/*"})]


def translate(event: dict, settings: Settings) -> list[Request]:
    """Any supported method: one request with its Amplitude events."""
    return upload(amplitude_events(event, settings), settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many Segment events: one request with all their Amplitude events."""
    return upload([item for event in events for item in amplitude_events(event, settings)], settings)


def interpret(status: int, body: bytes) -> str | None:
    """Amplitude's JSON error: `error`, `missing_field`, invalid/missing fields, throttling."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not parsed.get("error"):
        return None
    parts = [str(parsed["error"])]
    if parsed.get("missing_field"):
        parts.append(f"missing field {parsed['missing_field']}")
    for key, label in (("events_with_invalid_fields", "invalid"), ("events_with_missing_fields", "missing")):
        for field, indexes in (parsed.get(key) or {}).items():
            parts.append(f"{label} {field} in events {indexes}")
    if parsed.get("throttled_events"):
        parts.append(f"throttled events {parsed['throttled_events']} (limit {parsed.get('eps_threshold')} events/s)")
    return "; ".join(parts)


METHODS = ("track", "identify", "page", "screen", "group")

DESTINATION = Destination(
    slug="amplitude",
    name="Amplitude",
    categories=("Analytics",),
    description=(
        "Product analytics: funnels, retention and user journeys. Track, page and screen calls "
        "become Amplitude events with their properties and revenue; identify sets user "
        "properties; group places the user in an Amplitude group and sets its properties."
    ),
    docs_url="https://amplitude.com/docs/apis/analytics/http-v2",
    settings=Settings,
    translations={method: translate for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
)
