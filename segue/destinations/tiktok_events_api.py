"""TikTok Conversions API: web events through the Events API 2.0 (v1.3).

POST https://business-api.tiktok.com/open_api/v1.3/event/track/ with the `Access-Token` header and
`{"event_source": "web", "event_source_id": <pixel code>, "data": [...]}`, up to 1,000 events per
request. track calls become standard events (Order Completed -> Purchase) or custom events named
after the Segment event; page calls become Pageview. messageId is the `event_id` TikTok
deduplicates against the Pixel. Email, phone (E.164) and external id are normalised and SHA-256
hashed as TikTok documents; IP, user agent, ttclid and ttp are sent as they are (ttclid and ttp
are read from `integrations["TikTok Conversions API"]` or from `context`).
"""

from __future__ import annotations

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

NAME = "TikTok Conversions API"
URL = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
BATCH_SIZE = 1000  # events per request (Events API 2.0 batch limit)
STANDARD_EVENTS = {
    "Order Completed": "Purchase", "Product Added": "AddToCart", "Product Viewed": "ViewContent",
    "Checkout Started": "InitiateCheckout", "Products Searched": "Search", "Signed Up": "CompleteRegistration",
    "Product Added to Wishlist": "AddToWishlist", "Payment Info Entered": "AddPaymentInfo",
}
USER_FIELDS: dict[str, ads.Rule] = {
    "email": ("email", ads.email), "phone": ("phone", ads.phone_e164), "external_id": ("external_id", ads.trimmed),
}


class Settings(DestinationSettings):
    pixel_code: str = Field(title="Pixel Code", description="The TikTok Pixel code: the events' event_source_id.")
    access_token: SecretStr = Field(title="Access Token", description="An Events API access token of the pixel.")
    test_event_code: str | None = Field(None, title="Test Event Code",
                                        description="Send to Test Events in Events Manager (remove in production).")


def user(event: dict) -> dict:
    """Hashed email, phone and external id plus the unhashed network and click ids."""
    plain = {
        "ip": text(event, "context.ip"), "user_agent": text(event, "context.userAgent"),
        "ttclid": ads.option(event, NAME, "ttclid"), "ttp": ads.option(event, NAME, "ttp"),
        "locale": text(event, "context.locale"),
    }
    return {**ads.hashed_fields(ads.person(event), USER_FIELDS), **compact(plain)}


def _content(item: dict) -> dict:
    return compact({
        "content_id": ads.product_id(item), "content_name": text(item, "name"),
        "content_category": text(item, "category"), "brand": text(item, "brand"),
        "price": number(item, "price"), "quantity": ads.quantity(item),
    })


def properties(event: dict) -> dict:
    """value, currency and contents from the e-commerce spec, the search query, the order id."""
    props = obj(event, "properties")
    amount, contents = ads.value(props), [_content(item) for item in ads.products(props)]
    return compact({
        "value": amount, "currency": ads.currency(props, amount), "contents": contents or None,
        "content_type": "product" if contents else None, "query": text(props, "query"),
        "order_id": order_id(props),
    })


def tiktok_event(event: dict) -> dict:
    """One Events API event for a track or page call."""
    name = ads.standard_event(event, STANDARD_EVENTS, "Pageview") or text(event, "event")
    page = compact({"url": ads.page_url(event), "referrer": text(event, "context.page.referrer")})
    return compact({
        "event": name, "event_time": ads.event_time_ms(event) // 1000, "event_id": text(event, "messageId"),
        "user": user(event), "properties": properties(event) or None, "page": page or None,
    })


def send(events: list[dict], settings: Settings) -> list[Request]:
    """One request per 1,000 events."""
    headers = {"Access-Token": settings.access_token.get_secret_value()}
    base = {"event_source": "web", "event_source_id": settings.pixel_code, "test_event_code": settings.test_event_code}
    return [json_request(URL, compact({**base, "data": chunk}), headers) for chunk in chunks(events, BATCH_SIZE)]


def translate(event: dict, settings: Settings) -> list[Request]:
    """track and page: one request with one event."""
    return send([tiktok_event(event)], settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many track and page calls: their events, 1,000 per request."""
    return send([tiktok_event(event) for event in events], settings)


def interpret(status: int, body: bytes) -> str | None:
    """TikTok's envelope `{"code", "message", "request_id"}` (code 0 is success)."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None else None
    code, message = parsed.get("code"), parsed.get("message")
    if code in (None, 0) and not message:
        return None
    return f"{message or 'error'} (code {code})" if code is not None else str(message)


METHODS = ("track", "page")

DESTINATION = Destination(
    slug="tiktok-events-api",
    name=NAME,
    categories=("Advertising",),
    description=(
        "TikTok's server-side web events for ad measurement and optimisation. Track calls become "
        "standard events such as Purchase or AddToCart (or custom events), page calls become Pageview; "
        "email, phone and user id are hashed as TikTok requires and messageId deduplicates against the Pixel."
    ),
    docs_url="https://business-api.tiktok.com/portal/docs?id=1771100865818625",
    settings=Settings,
    translations={method: translate for method in METHODS},
    platforms=("browser", "server"),
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    rate_limit=0.0,  # TikTok documents no per-account request rate for the Events API
    interpret=interpret,
)
