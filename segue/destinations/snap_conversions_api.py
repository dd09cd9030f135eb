"""Snap Conversions API (v3): web, app and offline conversion events of a Snap Pixel.

POST https://tr.snapchat.com/v3/{pixel_id}/events?access_token=... (`/events/validate` in test
mode) with `{"data": [...]}`, up to 2,000 events per request. track calls become Snap's standard
events (Order Completed -> PURCHASE, Product Added -> ADD_CART, ...); page calls become PAGE_VIEW;
other track calls have no Snap event and send nothing. messageId is the `event_id` Snap
deduplicates against the Pixel. user_data digests follow Snap's normalisation; IP, user agent,
`sc_click_id`, `sc_cookie1` (read from `integrations["Snap Conversions API"]` or `context`) and the
lower-cased mobile advertising id are sent unhashed, as Snap requires.
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

NAME = "Snap Conversions API"
API = "https://tr.snapchat.com/v3"
BATCH_SIZE = 2000  # events per request
STANDARD_EVENTS = {
    "Order Completed": "PURCHASE", "Product Added": "ADD_CART", "Product Viewed": "VIEW_CONTENT",
    "Checkout Started": "START_CHECKOUT", "Products Searched": "SEARCH", "Signed Up": "SIGN_UP",
    "Product Added to Wishlist": "ADD_TO_WISHLIST", "Payment Info Entered": "ADD_BILLING",
    "Product List Viewed": "LIST_VIEW", "Signed In": "LOGIN", "Trial Started": "START_TRIAL",
}
SNAP_EVENTS = {*STANDARD_EVENTS.values(), "PAGE_VIEW", "SUBSCRIBE", "SAVE", "SHARE", "INVITE", "RESERVE", "RATE",
               *(f"CUSTOM_EVENT_{slot}" for slot in range(1, 6))}
USER_FIELDS: dict[str, ads.Rule] = {
    "em": ("email", ads.email), "ph": ("phone", ads.phone_digits), "fn": ("first_name", ads.lower_trim),
    "ln": ("last_name", ads.lower_trim), "ge": ("gender", ads.gender), "db": ("birthday", ads.birthday),
    "ct": ("city", ads.city), "st": ("state", ads.state), "zp": ("zip", ads.zip_code),
    "country": ("country", ads.country), "external_id": ("external_id", ads.trimmed),
}


class Settings(DestinationSettings):
    pixel_id: str = Field(title="Pixel ID", description="The Snap Pixel id the events belong to.")
    access_token: SecretStr = Field(title="Access Token", description="A Conversions API token from Business Manager.")
    action_source: Literal["WEB", "MOBILE_APP", "OFFLINE"] = Field(
        "WEB", title="Action Source", description="Where the conversions happen.")
    test_mode: bool = Field(
        False, title="Test Mode",
        description="Send to the validation endpoint: nothing is recorded (turn off in production).")


def user_data(event: dict) -> dict:
    """Lists of digests of the customer information plus the unhashed network, click and device ids."""
    digests = {field: [digest] for field, digest in ads.hashed_fields(ads.person(event), USER_FIELDS).items()}
    advertising_id = text(event, "context.device.advertisingId")
    plain = {
        "client_ip_address": text(event, "context.ip"), "client_user_agent": text(event, "context.userAgent"),
        "sc_click_id": ads.option(event, NAME, "sc_click_id"), "sc_cookie1": ads.option(event, NAME, "sc_cookie1"),
        "madid": advertising_id.strip().lower() if advertising_id else None,
    }
    return {**digests, **compact(plain)}


def _content(item: dict) -> dict:
    return compact({
        "id": ads.product_id(item), "quantity": ads.quantity(item), "item_price": number(item, "price"),
        "brand": text(item, "brand"), "category": text(item, "category"),
    })


def custom_data(event: dict) -> dict:
    """Value, currency, contents, order id and search string from the e-commerce spec."""
    properties = obj(event, "properties")
    amount, contents = ads.value(properties), [_content(item) for item in ads.products(properties)]
    return compact({
        "value": amount, "currency": ads.currency(properties, amount), "contents": contents or None,
        "content_ids": [item["id"] for item in contents] or None,
        "num_items": sum(item["quantity"] for item in contents) or None,
        "order_id": order_id(properties), "search_string": text(properties, "query"),
    })


def snap_event(event: dict, settings: Settings) -> dict | None:
    """One Snap event for a track or page call, None when Snap has no event for it."""
    name = ads.standard_event(event, STANDARD_EVENTS, "PAGE_VIEW")
    given = text(event, "event")
    name = name or (given if given in SNAP_EVENTS else None)
    if name is None:
        return None
    return compact({
        "event_name": name, "event_time": ads.event_time_ms(event) // 1000, "event_id": text(event, "messageId"),
        "action_source": settings.action_source, "event_source_url": ads.page_url(event),
        "user_data": user_data(event), "custom_data": custom_data(event) or None,
    })


def send(events: list[dict], settings: Settings) -> list[Request]:
    """One request per 2,000 Snap events."""
    path = "events/validate" if settings.test_mode else "events"
    query = urlencode({"access_token": settings.access_token.get_secret_value()})
    url = f"{API}/{quote(settings.pixel_id, safe='')}/{path}?{query}"
    return [json_request(url, {"data": chunk}) for chunk in chunks(events, BATCH_SIZE)]


def translate(event: dict, settings: Settings) -> list[Request]:
    """track and page: one request with one Snap event (none for events Snap does not know)."""
    return send([item for item in [snap_event(event, settings)] if item], settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many track and page calls: their Snap events, 2,000 per request."""
    return send([item for item in (snap_event(event, settings) for event in events) if item], settings)


def interpret(status: int, body: bytes) -> str | None:
    """Snap's JSON errors: `reason`, `debug_message` or `display_message`, with an error code."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None else None
    message = next((str(parsed[key]) for key in ("reason", "debug_message", "display_message", "message")
                    if parsed.get(key)), None)
    code = parsed.get("error_code")
    return f"{message} ({code})" if message and code else message


METHODS = ("track", "page")

DESTINATION = Destination(
    slug="snap-conversions-api",
    name=NAME,
    categories=("Advertising",),
    description=(
        "Snapchat's server-side conversion events for ad measurement, audiences and optimisation. "
        "Track calls become PURCHASE, ADD_CART, SIGN_UP and Snap's other standard events, page calls "
        "become PAGE_VIEW; customer data is hashed as Snap requires and messageId deduplicates "
        "against the Snap Pixel."
    ),
    docs_url="https://developers.snap.com/api/marketing-api/Conversions-API/UsingTheAPI",
    settings=Settings,
    translations={method: translate for method in METHODS},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    rate_limit=0.0,  # no per-pixel request rate on Snap's own pages (a third-party summary says 10/s)
    interpret=interpret,
)
