"""Google Analytics 4: events through the Measurement Protocol (web streams).

POST https://www.google-analytics.com/mp/collect?measurement_id=G-...&api_secret=... (or the EU
host region1.google-analytics.com) with `{client_id, user_id, events: [{name, params,
timestamp_micros}], user_properties, user_location, device, ip_override}`. Auth is the stream's
API secret in the query string. The protocol answers 2xx even for bad payloads; only its debug
endpoint (/debug/mp/collect) returns `validationMessages`. Segment's e-commerce events become
GA4's recommended events (purchase, add_to_cart, view_item...) with their `items[]`.

Device mode runs gtag.js on the website instead (`device/google-analytics-4.js`, measurement ID
only: the API secret never reaches browsers): `gtag('config', <id>, {send_page_view: false})`,
then page becomes `gtag('event', 'page_view', {page_location, page_title, page_referrer})`, track
the same recommended or custom event and parameters as above, and identify
`gtag('set', {user_id})` plus `gtag('set', 'user_properties', ...)` from the chosen traits.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlencode

from pydantic import Field, SecretStr

from segue.destinations.common import (
    chunks,
    compact,
    dig,
    encode_json,
    event_ms,
    first,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    products_of,
    require_event_name,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Device, Request
from segue.errors import InvalidMessage

HOSTS = {"global": "https://www.google-analytics.com", "EU": "https://region1.google-analytics.com"}
BATCH_SIZE = 25  # "Requests can have a maximum of 25 events"
MAX_PARAMS, NAME_LENGTH, VALUE_LENGTH = 25, 40, 100  # per event; names; parameter values (standard GA4)
INTEGRATION = "Google Analytics 4"  # key of per-event options in `integrations`
RESERVED_EVENTS = frozenset("""
    ad_activeview ad_click ad_exposure ad_impression ad_query ad_reward adunit_exposure app_background app_clear_data
    app_exception app_remove app_store_refund app_store_subscription_cancel app_store_subscription_convert
    app_store_subscription_renew app_update app_upgrade dynamic_link_app_open dynamic_link_app_update
    dynamic_link_first_open error firebase_campaign firebase_in_app_message_action firebase_in_app_message_dismiss
    firebase_in_app_message_impression first_open first_visit in_app_purchase notification_dismiss
    notification_foreground notification_open notification_receive os_update session_start
    session_start_with_rollout user_engagement
""".split())  # Measurement Protocol reserved event names
PAGE_PARAMS = (  # GA4 page parameter, its length limit <- Segment page property, context.page fallback
    ("page_location", 1000, "url"), ("page_title", 300, "title"), ("page_referrer", 420, "referrer"),
)
RECOMMENDED = {  # Segment semantic event -> GA4 recommended event
    "Products Searched": "search", "Product List Viewed": "view_item_list", "Product Clicked": "select_item",
    "Product Viewed": "view_item", "Product Added": "add_to_cart", "Product Removed": "remove_from_cart",
    "Cart Viewed": "view_cart", "Checkout Started": "begin_checkout", "Payment Info Entered": "add_payment_info",
    "Order Completed": "purchase", "Order Refunded": "refund", "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion", "Product Added to Wishlist": "add_to_wishlist",
    "Product Shared": "share", "Signed Up": "sign_up", "Signed In": "login",
}
SINGLE_PRODUCT = {"select_item", "view_item", "add_to_cart", "remove_from_cart", "add_to_wishlist"}
COMMON_PARAMS = (  # GA4 parameter <- Segment property spellings, on every recommended event
    ("transaction_id", ("order_id", "orderId")), ("affiliation", ("affiliation",)), ("coupon", ("coupon",)),
    ("shipping", ("shipping",)), ("tax", ("tax",)),
)
EVENT_PARAMS = {  # and on some events only
    "search": (("search_term", ("query",)),),
    "view_item_list": (("item_list_id", ("list_id",)), ("item_list_name", ("category",))),
    "select_item": (("item_list_id", ("list_id",)),),
    "view_promotion": (("promotion_id", ("promotion_id",)), ("promotion_name", ("name",)),
                       ("creative_name", ("creative",)), ("creative_slot", ("position",))),
    "add_payment_info": (("payment_type", ("payment_method",)),),
    "sign_up": (("method", ("method",)),), "login": (("method", ("method",)),),
    "share": (("method", ("share_via",)), ("item_id", ("product_id", "productId"))),
}
EVENT_PARAMS["select_promotion"] = EVENT_PARAMS["view_promotion"]
ITEM_FIELDS = (  # GA4 item field <- Segment product field spellings
    ("item_id", ("product_id", "productId", "sku", "id")), ("item_name", ("name",)), ("affiliation", ("affiliation",)),
    ("coupon", ("coupon",)), ("item_brand", ("brand",)), ("item_category", ("category",)),
    ("item_variant", ("variant",)), ("price", ("price",)), ("quantity", ("quantity",)), ("index", ("position",)),
)
ALL_FIELDS = COMMON_PARAMS + ITEM_FIELDS + tuple(pair for pairs in EVENT_PARAMS.values() for pair in pairs)
CONSUMED = {spelling for _, spellings in ALL_FIELDS for spelling in spellings} | {
    "products", "currency", "value", "revenue", "total"}


class Settings(DestinationSettings):
    measurement_id: str = Field(title="Measurement ID", description="The web stream's measurement id (G-XXXXXXXXXX).")
    api_secret: SecretStr = Field(title="API Secret", description="A Measurement Protocol API secret of the stream.")
    region: Literal["global", "EU"] = Field("global", description="EU: collect through region1 (EU processing).")
    user_property_traits: list[str] = Field(
        default_factory=list, title="User Property Traits",
        description="Traits sent as GA4 user properties. GA4 forbids personal data (email, phone, name) here.")
    lowercase_event_names: bool = Field(True, description="Lowercase custom event names (Signed Up -> signed_up).")


def ga4_name(name: str, lowercase: bool = True) -> str:
    """A GA4 event/parameter name: letters, digits and `_`, starting with a letter, <= 40 chars."""
    cleaned = re.sub(r"[^0-9A-Za-z_]+", "_", name.strip()).strip("_")[:NAME_LENGTH]
    cleaned = cleaned.lower() if lowercase else cleaned
    if not cleaned or not cleaned[0].isalpha():
        raise InvalidMessage(f"{name!r} cannot become a GA4 name (it must start with a letter)", code="invalid_field")
    return cleaned


def _scalar(value):
    """A GA4 parameter value: numbers as they are, text cut to 100 chars, else None."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    return value[:VALUE_LENGTH] if isinstance(value, str) else None


def _first(source: dict, spellings: tuple[str, ...]):
    return first(source.get(key) for key in spellings)


def item(product: dict) -> dict:
    """A GA4 item from a Segment product (GA4 requires item_id or item_name)."""
    return compact({key: _scalar(_first(product, spellings)) for key, spellings in ITEM_FIELDS})


def _items(properties: dict, name: str) -> list[dict]:
    if name in SINGLE_PRODUCT:
        return [item(properties)]
    return [item(product) for product in products_of(properties)]


def _value(properties: dict) -> int | float | None:
    for key in ("value", "revenue", "total"):
        if number(properties, key) is not None:
            return number(properties, key)
    price, quantity = number(properties, "price"), number(properties, "quantity")
    return price * (quantity or 1) if price is not None else None


def ecommerce_params(properties: dict, name: str) -> dict:
    """The recommended parameters of a GA4 e-commerce event (currency defaults to USD, as in Segment)."""
    pairs = COMMON_PARAMS + EVENT_PARAMS.get(name, ())
    params = {key: _scalar(_first(properties, spellings)) for key, spellings in pairs}
    value = _value(properties)
    currency = text(properties, "currency") or ("USD" if value is not None else None)
    return compact({**params, "currency": currency, "value": value, "items": _items(properties, name) or None})


def custom_params(properties: dict, skip: set[str] = frozenset()) -> dict:
    """Scalar properties with GA4 parameter names (objects and lists are dropped: GA4 cannot take them)."""
    params = {}
    for key, value in properties.items():
        if key not in skip and _scalar(value) is not None and re.match(r"[A-Za-z]", key):
            params.setdefault(ga4_name(key), _scalar(value))
    return params


def _session_params(event: dict) -> dict:
    options = obj(event, f"integrations.{INTEGRATION}")
    return compact({"session_id": _scalar(options.get("session_id")),
                    "engagement_time_msec": number(options, "engagement_time_msec")})


def _event(event: dict, name: str, params: dict) -> dict:
    merged = {**params, **_session_params(event)}
    merged = dict(list(merged.items())[:MAX_PARAMS])
    ms = event_ms(event)
    return compact({"name": name, "params": merged, "timestamp_micros": None if ms is None else ms * 1000})


def _page_params(event: dict) -> dict:
    """page_location, page_title and page_referrer (each within GA4's length limit) and language."""
    params = {"language": text(event, "context.locale")}
    for param, limit, key in PAGE_PARAMS:
        value = text(event, f"properties.{key}") or text(event, f"context.page.{key}")
        params[param] = value[:limit] if value else None
    return compact(params)


def track_event(event: dict, settings: Settings) -> dict:
    """track: a recommended event for Segment's semantic events, else a custom event."""
    name, properties = require_event_name(event), obj(event, "properties")
    recommended = RECOMMENDED.get(name)
    if recommended:
        return _event(event, recommended, {**ecommerce_params(properties, recommended),
                                           **custom_params(properties, CONSUMED)})
    custom = ga4_name(name, settings.lowercase_event_names)
    if custom in RESERVED_EVENTS or re.match(r"(?i)(firebase_|ga_|google_)", custom):
        raise InvalidMessage(f"{custom!r} is a reserved GA4 event name", code="invalid_field")
    return _event(event, custom, {**_page_params(event), **custom_params(properties)})


def page_event(event: dict, settings: Settings) -> dict:
    """page: `page_view` with page_location, page_title and page_referrer."""
    return _event(event, "page_view", {**_page_params(event), **custom_params(obj(event, "properties"),
                                                                            {"url", "title", "referrer"})})


def screen_event(event: dict, settings: Settings) -> dict:
    """screen: `screen_view` with screen_name."""
    params = compact({"screen_name": _scalar(text(event, "name"))})
    return _event(event, "screen_view", {**params, **custom_params(obj(event, "properties"), {"name"})})


def envelope(event: dict, settings: Settings) -> dict:
    """The request-level fields: ids, user properties, location, device and IP."""
    client_id = text(event, f"integrations.{INTEGRATION}.client_id") or text(event, "anonymousId")
    user_id = text(event, "userId")
    if client_id is None and user_id is None:
        raise InvalidMessage("GA4 needs an anonymousId (its client_id) or a userId", code="missing_field")
    return compact({"client_id": client_id or user_id, "user_id": user_id,
                    "user_properties": _user_properties(event, settings) or None,
                    "user_location": _location(event) or None, "device": _device(event) or None,
                    "ip_override": text(event, "context.ip")})


def _user_properties(event: dict, settings: Settings) -> dict:
    traits = {**obj(event, "context.traits"), **obj(event, "traits")}
    return {ga4_name(key): {"value": _scalar(traits[key])}
            for key in settings.user_property_traits if _scalar(traits.get(key)) is not None}


def _location(event: dict) -> dict:
    country = text(event, "context.location.country")
    country_id = country.upper() if country and re.fullmatch(r"[A-Za-z]{2}", country) else None  # ISO 3166-1 only
    return compact({"city": text(event, "context.location.city"), "country_id": country_id})


def _device(event: dict) -> dict:
    width, height = number(event, "context.screen.width"), number(event, "context.screen.height")
    return compact({
        "language": text(event, "context.locale"), "operating_system": text(event, "context.os.name"),
        "operating_system_version": text(event, "context.os.version"), "model": text(event, "context.device.model"),
        "brand": text(event, "context.device.manufacturer"),
        "screen_resolution": f"{width}x{height}" if width and height else None,
    })


BUILDERS = {"track": track_event, "page": page_event, "screen": screen_event}


def ga4_event(event: dict, settings: Settings) -> dict:
    """The GA4 event for a track, page or screen call."""
    builder = BUILDERS.get(event.get("type"))
    if builder is None:
        raise InvalidMessage(f"GA4 does not take {event.get('type')!r} calls", code="unsupported_method")
    return builder(event, settings)


def _url(settings: Settings) -> str:
    query = urlencode({"measurement_id": settings.measurement_id, "api_secret": settings.api_secret.get_secret_value()})
    return f"{HOSTS[settings.region]}/mp/collect?{query}"


def translate(event: dict, settings: Settings) -> list[Request]:
    """track, page or screen: one request with one GA4 event."""
    return [json_request(_url(settings), {**envelope(event, settings), "events": [ga4_event(event, settings)]})]


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: grouped by identical request-level fields (same client), 25 GA4 events a request."""
    groups: dict[bytes, tuple[dict, list]] = {}
    for event in events:
        head = envelope(event, settings)
        groups.setdefault(encode_json(head), (head, []))[1].append(ga4_event(event, settings))
    return [json_request(_url(settings), {**head, "events": part})
            for head, items in groups.values() for part in chunks(items, BATCH_SIZE)]


def interpret(status: int, body: bytes) -> str | None:
    """Debug endpoint `validationMessages`, or a Google API `{"error": {"message"}}` body."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return None
    messages = [f"{m.get('fieldPath')}: {m.get('description')} ({m.get('validationCode')})"
                for m in parsed.get("validationMessages") or [] if isinstance(m, dict)]
    error = dig(parsed, "error.message")
    return "; ".join(messages[:5]) or (str(error) if error else None)


METHODS = ("track", "page", "screen")
DEVICE = Device(
    plugin="google-analytics-4.js", settings=("measurement_id", "user_property_traits", "lowercase_event_names"),
    methods=("page", "track", "identify"),
)

DESTINATION = Destination(
    slug="google-analytics-4",
    name="Google Analytics 4",
    categories=("Analytics",),
    description=(
        "Google's web and app analytics. Track, page and screen calls are sent through the "
        "Measurement Protocol to a GA4 web stream: Segment's e-commerce events become GA4 "
        "recommended events such as purchase or add_to_cart with their items, other events "
        "become custom events; chosen traits become user properties."
    ),
    docs_url="https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference",
    settings=Settings,
    translations={method: translate for method in METHODS},
    modes=("cloud", "device"),
    platforms=("browser", "mobile", "server"),
    device=DEVICE,
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
    rate_limit=0.0,  # the Measurement Protocol documents no request rate limit
)
