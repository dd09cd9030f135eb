"""Facebook (Meta) Conversions API: server events for a Meta Pixel (dataset).

POST https://graph.facebook.com/{version}/{pixel_id}/events?access_token=... with `{"data": [...]}`,
up to 1,000 events per request. track calls become standard events (Order Completed -> Purchase)
or custom events named after the Segment event; page calls become PageView. messageId is the
`event_id` Meta deduplicates against the Pixel's eventID. Customer information is normalised and
SHA-256 hashed as Meta documents; IP, user agent, fbc and fbp are sent as they are (fbc and fbp
are read from `integrations["Facebook Conversions API"]` or from `context`).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlencode

from pydantic import Field, SecretStr

from segue.destinations import _ads as ads
from segue.destinations.common import (
    chunks,
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    order_id,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

NAME = "Facebook Conversions API"
API = "https://graph.facebook.com"
BATCH_SIZE = 1000  # events per request (Conversions API "data" limit)
STANDARD_EVENTS = {
    "Order Completed": "Purchase", "Product Added": "AddToCart", "Product Viewed": "ViewContent",
    "Checkout Started": "InitiateCheckout", "Products Searched": "Search", "Signed Up": "CompleteRegistration",
    "Product Added to Wishlist": "AddToWishlist", "Payment Info Entered": "AddPaymentInfo",
}
USER_FIELDS: dict[str, ads.Rule] = {  # Meta's customer information parameters that must be hashed
    "em": ("email", ads.email), "ph": ("phone", ads.phone_digits), "fn": ("first_name", ads.meta_name),
    "ln": ("last_name", ads.meta_name), "ge": ("gender", ads.gender), "db": ("birthday", ads.birthday),
    "ct": ("city", ads.city), "st": ("state", ads.state), "zp": ("zip", ads.zip_code),
    "country": ("country", ads.country), "external_id": ("external_id", ads.trimmed),
}
CONSUMED = {"value", "revenue", "total", "currency", "products", "order_id", "orderId", "query"}


class Settings(DestinationSettings):
    pixel_id: str = Field(title="Pixel ID", description="The Meta Pixel (dataset) id the events belong to.")
    access_token: SecretStr = Field(title="Access Token", description="A Conversions API access token of the pixel.")
    api_version: str = Field("v26.0", pattern=r"^v\d+\.\d+$", title="Graph API Version",
                             description="The Graph API version to call, e.g. v26.0.")
    action_source: Literal["website", "app", "physical_store", "system_generated", "email", "phone_call", "chat",
                           "other"] = Field("website", title="Action Source",
                                            description="Where the conversions happen.")
    test_event_code: str | None = Field(None, title="Test Event Code",
                                        description="Send to Test Events in Events Manager (remove in production).")


def user_data(event: dict) -> dict:
    """Hashed customer information (lists of digests) plus the unhashed network and cookie ids."""
    digests = {field: [digest] for field, digest in ads.hashed_fields(ads.person(event), USER_FIELDS).items()}
    plain = {
        "client_ip_address": text(event, "context.ip"), "client_user_agent": text(event, "context.userAgent"),
        "fbc": ads.option(event, NAME, "fbc"), "fbp": ads.option(event, NAME, "fbp"),
    }
    return {**digests, **compact(plain)}


def _contents(properties: dict) -> list[dict]:
    return [
        compact({"id": ads.product_id(item), "quantity": ads.quantity(item), "item_price": number(item, "price")})
        for item in ads.products(properties)
    ]


def custom_data(event: dict) -> dict:
    """Value, currency and contents from the e-commerce spec; other properties as custom properties."""
    properties = obj(event, "properties")
    amount, contents = ads.value(properties), _contents(properties)
    standard = compact({
        "value": amount, "currency": ads.currency(properties, amount), "order_id": order_id(properties),
        "search_string": text(properties, "query"), "content_type": "product" if contents else None,
        "content_ids": [item["id"] for item in contents] or None, "contents": contents or None,
        "num_items": sum(item["quantity"] for item in contents) or None,
    })
    return {**{key: val for key, val in properties.items() if key not in CONSUMED}, **standard}


def server_event(event: dict, settings: Settings) -> dict:
    """One Conversions API server event for a track or page call."""
    name = ads.standard_event(event, STANDARD_EVENTS, "PageView") or text(event, "event")
    return compact({
        "event_name": name, "event_time": ads.event_time_ms(event) // 1000, "event_id": text(event, "messageId"),
        "action_source": settings.action_source, "event_source_url": ads.page_url(event),
        "user_data": user_data(event), "custom_data": custom_data(event) or None,
    })


def send(events: list[dict], settings: Settings) -> list[Request]:
    """One request per 1,000 server events."""
    query = urlencode({"access_token": settings.access_token.get_secret_value()})
    url = f"{API}/{settings.api_version}/{quote(settings.pixel_id, safe='')}/events?{query}"
    return [
        json_request(url, compact({"data": chunk, "test_event_code": settings.test_event_code}))
        for chunk in chunks(events, BATCH_SIZE)
    ]


def translate(event: dict, settings: Settings) -> list[Request]:
    """track and page: one request with one server event."""
    return send([server_event(event, settings)], settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many track and page calls: their server events, 1,000 per request."""
    return send([server_event(event, settings) for event in events], settings)


def interpret(status: int, body: bytes) -> str | None:
    """Graph API errors: `{"error": {"message", "code", "error_subcode", "error_user_msg", ...}}`."""
    parsed = json_or_none(body)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return error_text(body) if parsed is None else None
    codes = ", ".join(f"{key} {error[key]}" for key in ("code", "error_subcode") if error.get(key) is not None)
    parts = [str(error.get("message") or "error"), f"({codes})" if codes else "",
             str(error.get("error_user_msg") or "")]
    return " ".join(part for part in parts if part)


METHODS = ("track", "page")

DESTINATION = Destination(
    slug="facebook-conversions-api",
    name=NAME,
    categories=("Advertising",),
    description=(
        "Meta's server-side conversion tracking for Facebook and Instagram ads. Track calls become "
        "standard events such as Purchase or AddToCart (or custom events), page calls become PageView; "
        "customer information is hashed as Meta requires and messageId deduplicates against the Pixel."
    ),
    docs_url="https://developers.facebook.com/docs/marketing-api/conversions-api",
    settings=Settings,
    translations={method: translate for method in METHODS},
    platforms=("browser", "mobile", "server"),
    replay=False,  # Meta refuses events older than 7 days
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    rate_limit=0.0,  # no per-account figure documented: Marketing API rate limiting is usage-based
    interpret=interpret,
)
