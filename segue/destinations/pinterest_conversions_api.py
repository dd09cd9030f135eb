"""Pinterest API for Conversions (v5): conversion events of an ad account.

POST https://api.pinterest.com/v5/ad_accounts/{ad_account_id}/events (`?test=true` in test mode)
with `Authorization: Bearer <conversion token>` and `{"data": [...]}`, up to 1,000 events per
request. track calls become Pinterest's events (Order Completed -> checkout, Product Added ->
add_to_cart, ...), other track calls `custom`; page calls become page_visit. messageId is the
`event_id` Pinterest deduplicates against the Pinterest tag. user_data fields are lists of SHA-256
digests of values normalised as Pinterest documents; IP, user agent and the click id (`epik`, read
from `integrations["Pinterest Conversions API"]` or `context`) are sent as they are.
"""

from __future__ import annotations

import json
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
    order_id,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

NAME = "Pinterest Conversions API"
API = "https://api.pinterest.com/v5/ad_accounts"
BATCH_SIZE = 1000  # events per request (ConversionEvents.data maxItems)
STANDARD_EVENTS = {
    "Order Completed": "checkout", "Product Added": "add_to_cart", "Product Viewed": "page_visit",
    "Products Searched": "search", "Signed Up": "signup", "Product List Viewed": "view_category",
    "Video Playback Started": "watch_video",
}
USER_FIELDS: dict[str, ads.Rule] = {
    "em": ("email", ads.email), "ph": ("phone", ads.phone_digits), "fn": ("first_name", ads.lower_trim),
    "ln": ("last_name", ads.lower_trim), "ge": ("gender", ads.gender_mfn), "db": ("birthday", ads.birthday),
    "ct": ("city", ads.city), "st": ("state", ads.state), "zp": ("zip", ads.zip_digits),
    "country": ("country", ads.country), "external_id": ("external_id", ads.trimmed),
    "hashed_maids": ("advertising_id", ads.trimmed),
}


class Settings(DestinationSettings):
    ad_account_id: str = Field(title="Ad Account ID",
                               description="The Pinterest ad account the conversions belong to.")
    conversion_token: SecretStr = Field(title="Conversion Token",
                                        description="The conversion access token generated in Ads Manager.")
    action_source: Literal["web", "app_android", "app_ios", "offline"] = Field(
        "web", title="Action Source", description="Where the conversions happen.")
    test_mode: bool = Field(False, title="Test Mode",
                            description="Validate events without recording them (turn off in production).")


def _decimal(amount: int | float | None) -> str | None:
    """Pinterest takes amounts as decimal strings."""
    return None if amount is None else json.dumps(amount)


def user_data(event: dict) -> dict:
    """Lists of digests of the customer information plus the unhashed network and click ids."""
    values = {**ads.person(event), "advertising_id": text(event, "context.device.advertisingId")}
    digests = {field: [digest] for field, digest in ads.hashed_fields(values, USER_FIELDS).items()}
    plain = {
        "client_ip_address": text(event, "context.ip"), "client_user_agent": text(event, "context.userAgent"),
        "click_id": ads.option(event, NAME, "epik"),
    }
    return {**digests, **compact(plain)}


def _content(item: dict) -> dict:
    return compact({
        "id": ads.product_id(item), "item_price": _decimal(number(item, "price")), "quantity": ads.quantity(item),
        "item_name": text(item, "name"), "item_category": text(item, "category"), "item_brand": text(item, "brand"),
    })


def custom_data(event: dict) -> dict:
    """Value, currency, contents, order id and search string from the e-commerce spec."""
    properties = obj(event, "properties")
    amount, contents = ads.value(properties), [_content(item) for item in ads.products(properties)]
    return compact({
        "currency": ads.currency(properties, amount), "value": _decimal(amount),
        "content_ids": [item["id"] for item in contents] or None, "contents": contents or None,
        "num_items": sum(item["quantity"] for item in contents) or None, "order_id": order_id(properties),
        "search_string": text(properties, "query"),
    })


def conversion_event(event: dict, settings: Settings) -> dict:
    """One conversion event for a track or page call."""
    name = ads.standard_event(event, STANDARD_EVENTS, "page_visit")
    if name is None:  # a Pinterest event name sent as is, else a custom event
        given = text(event, "event")
        name = given if given in set(STANDARD_EVENTS.values()) | {"lead", "custom"} else "custom"
    return compact({
        "event_name": name, "action_source": settings.action_source,
        "event_time": ads.event_time_ms(event) // 1000, "event_id": text(event, "messageId"),
        "event_source_url": ads.page_url(event), "user_data": user_data(event),
        "custom_data": custom_data(event) or None, "language": _language(event),
    })


def _language(event: dict) -> str | None:
    locale = text(event, "context.locale")
    return locale[:2].lower() if locale and len(locale) >= 2 and locale[:2].isalpha() else None


def send(events: list[dict], settings: Settings) -> list[Request]:
    """One request per 1,000 conversion events."""
    url = f"{API}/{quote(settings.ad_account_id, safe='')}/events" + ("?test=true" if settings.test_mode else "")
    return [json_request(url, {"data": chunk}, bearer(settings.conversion_token)) for chunk in chunks(events, BATCH_SIZE)]


def translate(event: dict, settings: Settings) -> list[Request]:
    """track and page: one request with one conversion event."""
    return send([conversion_event(event, settings)], settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many track and page calls: their conversion events, 1,000 per request."""
    return send([conversion_event(event, settings) for event in events], settings)


def interpret(status: int, body: bytes) -> str | None:
    """`{"code", "message"}` errors; a 422 also lists each failed event's `error_message`."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body) if parsed is None else None
    failures = [item.get("error_message") for item in parsed.get("events") or [] if isinstance(item, dict)]
    parts = [str(parsed["message"])] if parsed.get("message") else []
    parts += [f"event {index}: {message}" for index, message in enumerate(failures) if message]
    if parts and parsed.get("code") is not None:
        parts[0] = f"{parts[0]} (code {parsed['code']})"
    return "; ".join(parts) or None


METHODS = ("track", "page")

DESTINATION = Destination(
    slug="pinterest-conversions-api",
    name=NAME,
    categories=("Advertising",),
    description=(
        "Pinterest's server-side conversion events for ad reporting and optimisation. Track calls "
        "become checkout, add_to_cart, search, signup and other Pinterest events (or custom), page "
        "calls become page_visit; customer data is hashed as Pinterest requires and messageId "
        "deduplicates against the Pinterest tag."
    ),
    docs_url="https://developers.pinterest.com/docs/api/v5/events-create",
    settings=Settings,
    translations={method: translate for method in METHODS},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    rate_limit=5000 / 60,  # "5,000 calls per minute per ad account" (events/create)
    interpret=interpret,
)
