"""Matomo: page views, events and e-commerce orders through the HTTP Tracking API.

One hit is a form-encoded POST to {matomo}/matomo.php (`idsite`, `rec=1`, ...); a batch is the
bulk form, a JSON POST `{"requests": ["?idsite=...", ...], "token_auth": ...}` to the same URL.
page and screen are page views (`action_name`, `url`), track an event (`e_c`/`e_a`/`e_n`/`e_v`),
`Order Completed` an e-commerce order (`idgoal=0`, `ec_id`, `ec_items`), `Products Searched` a
site search. The visitor id `_id` is 16 hex characters derived from anonymousId (else userId);
`uid` is the userId. The optional auth token (`token_auth`) lets Segue set the event time (`cdt`,
which Matomo refuses without a token when older than 24 hours) and the visitor IP (`cip`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import Field, HttpUrl, SecretStr

from segue.destinations.common import (
    ORDER_COMPLETED,
    chunks,
    compact,
    encode_json,
    error_text,
    event_seconds,
    form_request,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    order_id,
    products_of,
    require_event_name,
    stable_hash,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

BATCH_SIZE = 100  # Matomo documents no bulk maximum ("hundreds of requests"); 100 is a conservative choice


class Settings(DestinationSettings):
    url: HttpUrl = Field(title="Matomo URL", description="The Matomo instance, e.g. https://example.matomo.cloud.")
    site_id: int = Field(title="Site ID", ge=1, description="The id of the website (idsite) to record hits in.")
    auth_token: SecretStr | None = Field(
        None, title="Auth Token",
        description="A token_auth with write access: needed to keep event times older than 24 hours and visitor IPs.")
    event_category: str = Field("All", description="The event category (e_c) when a track call has no category.")


def _endpoint(settings: Settings) -> str:
    return f"{str(settings.url).rstrip('/')}/matomo.php"


def visitor_id(event: dict) -> str:
    """The 16-hex-character Matomo visitor id (`_id`) for the event's anonymousId, else its userId."""
    identifier = text(event, "anonymousId") or text(event, "userId")
    if identifier is None:
        raise InvalidMessage("Matomo needs an anonymousId or a userId", code="missing_field")
    return stable_hash(identifier, 16)


def _common(event: dict, settings: Settings) -> dict:
    """The parameters of every hit: site, visitor, user, client and (with a token) time and IP."""
    width, height = number(event, "context.screen.width"), number(event, "context.screen.height")
    params = {
        "idsite": settings.site_id, "rec": 1, "apiv": 1, "_id": visitor_id(event), "uid": text(event, "userId"),
        "url": text(event, "context.page.url"), "urlref": text(event, "context.page.referrer"),
        "ua": text(event, "context.userAgent"), "lang": text(event, "context.locale"),
        "res": f"{width}x{height}" if width and height else None, "send_image": 0,
    }
    if settings.auth_token is not None:
        params.update(cdt=event_seconds(event), cip=text(event, "context.ip"))
    return params


def page_params(event: dict) -> dict:
    """page: a page view named after the page's title (else its name)."""
    properties = obj(event, "properties")
    return {"action_name": text(properties, "title") or text(event, "context.page.title") or text(event, "name"),
            "url": text(properties, "url"), "urlref": text(properties, "referrer")}


def screen_params(event: dict) -> dict:
    """screen: a page view named after the screen."""
    return {"action_name": text(event, "name"), "url": text(event, "properties.url")}


def item(product: dict) -> list:
    """An `ec_items` entry: [sku, name, category, price, quantity] with Matomo's defaults."""
    sku = text(product, "sku") or text(product, "product_id") or text(product, "productId") or ""
    quantity = number(product, "quantity")
    return [sku, text(product, "name") or "", text(product, "category") or "",
            number(product, "price") or 0, quantity if quantity is not None else 1]


def order_params(properties: dict) -> dict:
    """Order Completed: an e-commerce order (goal 0) with its totals and items."""
    products = products_of(properties)
    revenue = number(properties, "total") or number(properties, "revenue")
    return {
        "idgoal": 0, "ec_id": order_id(properties), "revenue": revenue,
        "ec_st": number(properties, "subtotal"), "ec_tx": number(properties, "tax"),
        "ec_sh": number(properties, "shipping"), "ec_dt": number(properties, "discount"),
        "ec_items": encode_json([item(p) for p in products]).decode() if products else None,
    }


def track_params(event: dict, settings: Settings) -> dict:
    """track: an order, a site search, or an event (category, action = event name, label, value)."""
    name, properties = require_event_name(event), obj(event, "properties")
    if name in ORDER_COMPLETED and order_id(properties):
        return order_params(properties)
    if name == "Products Searched" and text(properties, "query"):
        return {"search": text(properties, "query"), "search_cat": text(properties, "category")}
    value = number(properties, "value")
    return {"e_c": text(properties, "category") or settings.event_category, "e_a": name,
            "e_n": text(properties, "label") or text(properties, "name"),
            "e_v": value if value is not None else number(properties, "revenue")}


def hit(event: dict, settings: Settings) -> dict:
    """The tracking parameters of one Segment event."""
    method = event.get("type")
    if method == "track":
        specific = track_params(event, settings)
    elif method in ("page", "screen"):
        specific = page_params(event) if method == "page" else screen_params(event)
    else:
        raise InvalidMessage(f"Matomo does not take {method!r} calls", code="unsupported_method")
    common = _common(event, settings)
    return compact({**common, **compact(specific)})


def _token(settings: Settings) -> dict:
    return {"token_auth": settings.auth_token.get_secret_value()} if settings.auth_token else {}


def translate(event: dict, settings: Settings) -> list[Request]:
    """One hit: a form-encoded POST to matomo.php."""
    return [form_request(_endpoint(settings), {**hit(event, settings), **_token(settings)})]


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many hits: bulk tracking, `{"requests": ["?..."]}` in the events' order, 100 a request."""
    hits = ["?" + urlencode(hit(event, settings)) for event in events]
    return [json_request(_endpoint(settings), {"requests": part, **_token(settings)}) for part in chunks(hits, BATCH_SIZE)]


def interpret(status: int, body: bytes) -> str | None:
    """Bulk tracking's `{"status": "error", "message", "invalid_indices"}`, else the text body."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None and not body.lstrip().startswith(b"<") else None
    parts = [str(parsed["message"])] if parsed.get("message") else []
    if parsed.get("invalid_indices"):
        parts.append(f"invalid requests {parsed['invalid_indices']}")
    return "; ".join(parts) or (f"status {parsed['status']}" if parsed.get("status") == "error" else None)


METHODS = ("track", "page", "screen")

DESTINATION = Destination(
    slug="matomo",
    name="Matomo",
    categories=("Analytics",),
    description=(
        "Open-source web analytics, self-hosted or in Matomo Cloud. Page and screen calls become "
        "page views, track calls become Matomo events, Order Completed an e-commerce order with "
        "its items and Products Searched a site search; one visitor id per Segment user."
    ),
    docs_url="https://developer.matomo.org/api-reference/tracking-api",
    settings=Settings,
    translations={method: translate for method in METHODS},
    replay=True,  # with an auth token: cdt may then be any past time
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
    rate_limit=0.0,  # Matomo (self-hosted or Cloud) documents no tracking rate limit
)
