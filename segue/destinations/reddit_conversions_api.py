"""Reddit Conversions API (v3): conversion events of a Reddit pixel.

POST https://ads-api.reddit.com/api/v3/pixels/{pixel_id}/conversion_events with
`Authorization: Bearer <conversion access token>` and `{"data": {"events": [...]}}`, up to 1,000
events per request (v2.0, keyed by ad account with `test_mode`, is deprecated). track calls become
standard events (Order Completed -> PURCHASE, ...) or CUSTOM events named after the Segment event;
page calls become PAGE_VISIT. messageId is `metadata.conversion_id`, which Reddit deduplicates
against the Pixel. Email, phone, external id, IP address and advertising ids are normalised and
SHA-256 hashed as Reddit documents; user agent, click id and the `_rdt_uuid` cookie (read from
`integrations["Reddit Conversions API"]` or `context`) are sent as they are.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations import _ads as ads
from segue.destinations.common import (
    bearer,
    chunks,
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

NAME = "Reddit Conversions API"
API = "https://ads-api.reddit.com/api/v3/pixels"
BATCH_SIZE = 1000  # events per request
MAX_CUSTOM_NAME = 64
STANDARD_EVENTS = {
    "Order Completed": "PURCHASE", "Product Added": "ADD_TO_CART", "Product Viewed": "VIEW_CONTENT",
    "Products Searched": "SEARCH", "Signed Up": "SIGN_UP", "Product Added to Wishlist": "ADD_TO_WISHLIST",
}
TRACKING_TYPES = {*STANDARD_EVENTS.values(), "LEAD", "PAGE_VISIT"}
USER_FIELDS: dict[str, ads.Rule] = {
    "email": ("email", ads.reddit_email), "phone_number": ("phone", ads.phone_e164),
    "external_id": ("external_id", ads.trimmed), "ip_address": ("ip", ads.trimmed),
    "idfa": ("idfa", str.upper), "aaid": ("aaid", str.lower),
}


class Settings(DestinationSettings):
    pixel_id: str = Field(title="Pixel ID",
                          description="The Reddit pixel id (Events Manager), e.g. a2_abc123 or t2_abc123.")
    conversion_access_token: SecretStr = Field(title="Conversion Access Token",
                                               description="The Conversions API access token generated in Ads Manager.")
    action_source: Literal["WEBSITE", "APP", "PHYSICAL_STORE", "OTHER"] = Field(
        "WEBSITE", title="Action Source", description="Where the conversions happen.")
    test_id: str | None = Field(None, title="Test ID",
                                description="The Event Testing id from Ads Manager (remove in production).")


def _advertising_ids(event: dict) -> dict:
    """The device's advertising id as `idfa` (iOS) or `aaid` (Android)."""
    ad_id, os_name = text(event, "context.device.advertisingId"), (text(event, "context.os.name") or "").lower()
    if ad_id is None or os_name not in ("ios", "ipados", "android"):
        return {}
    return {"aaid" if os_name == "android" else "idfa": ad_id}


def _screen(event: dict) -> dict | None:
    width, height = number(event, "context.screen.width"), number(event, "context.screen.height")
    valid = all(isinstance(size, int) and size > 0 for size in (width, height))
    return {"width": width, "height": height} if valid else None


def user(event: dict) -> dict:
    """Hashed match keys plus the unhashed user agent, `_rdt_uuid` and screen dimensions."""
    values = {**ads.person(event), "ip": text(event, "context.ip"), **_advertising_ids(event)}
    plain = {
        "user_agent": text(event, "context.userAgent"), "uuid": ads.option(event, NAME, "uuid"),
        "screen_dimensions": _screen(event),
    }
    return {**ads.hashed_fields(values, USER_FIELDS), **compact(plain)}


def _product(item: dict) -> dict:
    return compact({
        "id": ads.product_id(item), "name": text(item, "name"), "category": text(item, "category"),
        "quantity": ads.quantity(item), "item_price": number(item, "price"),
    })


def metadata(event: dict) -> dict:
    """conversion_id (messageId), value, currency, item count and products."""
    properties = obj(event, "properties")
    amount, items = ads.value(properties), [_product(item) for item in ads.products(properties)]
    return compact({
        "conversion_id": text(event, "messageId"), "value": amount, "currency": ads.currency(properties, amount),
        "item_count": sum(item["quantity"] for item in items) or None, "products": items or None,
    })


def event_type(event: dict) -> dict:
    """`{"tracking_type": ...}`, with `custom_event_name` for CUSTOM events."""
    tracking_type = ads.standard_event(event, STANDARD_EVENTS, "PAGE_VISIT")
    name = text(event, "event") or ""
    if tracking_type or name in TRACKING_TYPES:
        return {"tracking_type": tracking_type or name}
    if len(name) > MAX_CUSTOM_NAME:
        message = f"Reddit custom event names are at most {MAX_CUSTOM_NAME} characters"
        raise InvalidMessage(message, code="invalid_field")
    return {"tracking_type": "CUSTOM", "custom_event_name": name}


def conversion_event(event: dict, settings: Settings) -> dict:
    """One conversion event for a track or page call."""
    return compact({
        "event_at": ads.event_time_ms(event), "action_source": settings.action_source, "type": event_type(event),
        "event_source_url": ads.page_url(event), "click_id": ads.option(event, NAME, "click_id"),
        "metadata": metadata(event), "user": user(event),
    })


def send(events: list[dict], settings: Settings) -> list[Request]:
    """One request per 1,000 conversion events."""
    url = f"{API}/{quote(settings.pixel_id, safe='')}/conversion_events"
    headers = {**bearer(settings.conversion_access_token),
               "User-Agent": "Segue (Reddit Conversions API destination)"}  # Reddit throttles generic agents
    return [
        json_request(url, {"data": compact({"test_id": settings.test_id, "events": chunk})}, headers)
        for chunk in chunks(events, BATCH_SIZE)
    ]


def translate(event: dict, settings: Settings) -> list[Request]:
    """track and page: one request with one conversion event."""
    return send([conversion_event(event, settings)], settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many track and page calls: their conversion events, 1,000 per request."""
    return send([conversion_event(event, settings) for event in events], settings)


def interpret(status: int, body: bytes) -> str | None:
    """`{"error": {"code", "message"}}` (or a bare `message`), else the plain-text body."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None else None
    error = parsed.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(error) if isinstance(error, str) else (str(parsed["message"]) if parsed.get("message") else None)


METHODS = ("track", "page")

DESTINATION = Destination(
    slug="reddit-conversions-api",
    name=NAME,
    categories=("Advertising",),
    description=(
        "Reddit's server-side conversion events for ad attribution and optimisation. Track calls become "
        "PURCHASE, ADD_TO_CART, SIGN_UP and the other standard events (or custom events), page calls "
        "become PAGE_VISIT; match keys are hashed as Reddit documents and messageId is the conversion id "
        "that deduplicates against the Reddit Pixel."
    ),
    docs_url="https://ads-api.reddit.com/docs/v3/",
    settings=Settings,
    translations={method: translate for method in METHODS},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    rate_limit=1000.0,  # "1,000 requests/sec, 10,000 events/sec" (Conversions API v3 limits)
    interpret=interpret,
)
