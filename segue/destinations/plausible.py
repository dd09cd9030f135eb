"""Plausible Analytics: page views and custom events through the Events API.

POST {host}/api/event with `{name, url, domain, referrer, props, revenue}`; no auth, the site is
named by `domain`. Plausible counts unique visitors from the `User-Agent` and `X-Forwarded-For`
headers, so they carry the visitor's context.userAgent and context.ip. page and screen are
`pageview`s, track a custom event with its properties as props (at most 30 scalars).
Plausible records events at arrival: it takes no timestamp and no event id, and keeps no users.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field, HttpUrl

from segue.destinations.common import (
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    require_event_name,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

MAX_PROPS, NAME_LENGTH, VALUE_LENGTH = 30, 120, 2000  # props per event; event name; prop value and URL
FALLBACK_USER_AGENT = "Segue"  # sent when an event has no context.userAgent (Plausible requires the header)
PAGE_PROPERTIES = {"url", "referrer", "path", "title", "search", "name", "keywords"}


class Settings(DestinationSettings):
    domain: str = Field(description="The site's domain as added in Plausible (e.g. example.com).")
    host: HttpUrl = Field(
        "https://plausible.io", description="The Plausible instance: plausible.io or a self-hosted URL.")


def props(properties: dict, skip: set[str] = frozenset()) -> dict:
    """Custom properties: scalars only (Plausible drops objects and lists), 30 at most, values cut to 2000."""
    scalars = {}
    for key, value in properties.items():
        if key in skip or value is None or isinstance(value, (dict, list)):
            continue
        scalars[key[:300]] = value[:VALUE_LENGTH] if isinstance(value, str) else value
        if len(scalars) == MAX_PROPS:
            break
    return scalars


def page_url(event: dict, settings: Settings) -> str:
    """The event's URL: the page's, else one built from its path, else an app:// URL (as Plausible suggests)."""
    url = text(event, "properties.url") if event.get("type") == "page" else None
    url = url or text(event, "context.page.url")
    path = text(event, "properties.path") or text(event, "context.page.path")
    if url is None and path:
        url = f"https://{settings.domain}/{path.lstrip('/')}"
    if url is None:
        screen = text(event, "name") if event.get("type") == "screen" else None
        url = "app://localhost/" + (quote(screen) if screen else "")
    return url[:VALUE_LENGTH]


def _revenue(properties: dict) -> dict | None:
    amount = number(properties, "revenue")
    if amount is None:
        return None
    return {"currency": (text(properties, "currency") or "USD").upper(), "amount": amount}


def _body(event: dict, settings: Settings, name: str, custom: dict, revenue: dict | None = None) -> dict:
    referrer = text(event, "properties.referrer") if event.get("type") == "page" else None
    return compact({
        "name": name[:NAME_LENGTH], "url": page_url(event, settings), "domain": settings.domain,
        "referrer": referrer or text(event, "context.page.referrer"), "props": custom or None, "revenue": revenue,
    })


def _headers(event: dict) -> dict:
    headers = {"User-Agent": text(event, "context.userAgent") or FALLBACK_USER_AGENT}
    return compact({**headers, "X-Forwarded-For": text(event, "context.ip")})


def track(event: dict, settings: Settings) -> dict:
    """track: a custom event named after the Segment event, with revenue when it has any."""
    name, properties = require_event_name(event), obj(event, "properties")
    return _body(event, settings, name, props(properties), _revenue(properties))


def page(event: dict, settings: Settings) -> dict:
    """page: a `pageview` of the page's URL; the non-standard page properties as props."""
    return _body(event, settings, "pageview", props(obj(event, "properties"), PAGE_PROPERTIES))


def screen(event: dict, settings: Settings) -> dict:
    """screen: a `pageview` of app://localhost/<screen name>, with the screen's properties."""
    return _body(event, settings, "pageview", props(obj(event, "properties"), {"name"}))


BUILDERS = {"track": track, "page": page, "screen": screen}


def translate(event: dict, settings: Settings) -> list[Request]:
    """track, page or screen: one POST /api/event."""
    builder = BUILDERS.get(event.get("type"))
    if builder is None:
        raise InvalidMessage(f"Plausible does not take {event.get('type')!r} calls", code="unsupported_method")
    url = f"{str(settings.host).rstrip('/')}/api/event"
    return [json_request(url, builder(event, settings), _headers(event))]


def interpret(status: int, body: bytes) -> str | None:
    """Plausible's `{"errors": {"field": ["message"]}}` (or `{"error": ...}`), else the text body."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None and not body.lstrip().startswith(b"<") else None
    errors = parsed.get("errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{field}: {', '.join(map(str, m)) if isinstance(m, list) else m}"
                         for field, m in errors.items())
    return str(parsed["error"]) if parsed.get("error") else None


METHODS = ("track", "page", "screen")

DESTINATION = Destination(
    slug="plausible",
    name="Plausible Analytics",
    categories=("Analytics",),
    description=(
        "Lightweight, cookie-free and privacy-friendly web analytics. Page and screen calls "
        "become Plausible page views and track calls custom events with their properties and "
        "revenue; the visitor's user agent and IP are forwarded so unique visitors are counted."
    ),
    docs_url="https://plausible.io/docs/events-api",
    settings=Settings,
    translations={method: translate for method in METHODS},
    presets=method_presets(METHODS),
    interpret=interpret,
    rate_limit=0.0,  # the Events API documents no rate limit
)
