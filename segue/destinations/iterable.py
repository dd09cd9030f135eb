"""Iterable: users, custom events and purchases through the Iterable API.

identify updates the user (POST /api/users/update); track, page and screen become custom
events (POST /api/events/track, id = messageId, so a retried event updates instead of
duplicating); `Order Completed` becomes a purchase (POST /api/commerce/trackPurchase). A batch
uses /api/events/trackBulk and /api/users/bulkUpdate. Users are found by email and/or userId;
anonymous events (neither) are not sent. Auth: the project's server-side key in `Api-Key`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations.common import (
    chunks,
    compact,
    event_seconds,
    first,
    is_order_completed,
    joined_fields,
    json_request,
    method_presets,
    number,
    obj,
    products_of,
    require_event_name,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

HOSTS = {"US": "https://api.iterable.com/api", "EU": "https://api.eu.iterable.com/api"}
BATCH_SIZE = 1000  # items per bulk request: conservative, Iterable's docs name no maximum


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="A server-side API key of the Iterable project.")
    data_center: Literal["US", "EU"] = Field("US", title="Data Center", description="Where the Iterable project is hosted.")
    prefer_user_id: bool = Field(
        True, title="Prefer userId", description="Create users by userId when no user with that email exists (userID-based and hybrid projects).",
    )


def _headers(settings: Settings) -> dict[str, str]:
    return {"Api-Key": settings.api_key.get_secret_value()}


def _post(settings: Settings, path: str, body: dict) -> Request:
    return json_request(f"{HOSTS[settings.data_center]}/{path}", body, _headers(settings))


def user_ids(event: dict) -> dict:
    """email (from the traits) and userId: Iterable finds users by either."""
    return compact({"email": text(traits_of(event), "email"), "userId": text(event, "userId")})


def user_update(event: dict, settings: Settings) -> dict | None:
    """The users/update body: ids and every trait as a data field (None without ids)."""
    ids = user_ids(event)
    if not ids:
        return None
    fields = {key: value for key, value in obj(event, "traits").items() if key != "email"}
    return {**ids, "dataFields": fields, "preferUserId": settings.prefer_user_id, "mergeNestedObjects": True}


def custom_event(event: dict, name: str) -> dict | None:
    """The events/track body (None when the user is anonymous)."""
    ids = user_ids(event)
    if not ids:
        return None
    return compact({
        **ids, "eventName": name, "id": text(event, "messageId"), "createdAt": event_seconds(event),
        "dataFields": obj(event, "properties"),
    })


def _item(product: dict) -> dict | None:
    item_id = first(text(product, key) for key in ("product_id", "sku", "id"))
    if item_id is None:
        return None
    quantity = number(product, "quantity")
    return compact({
        "id": item_id, "sku": text(product, "sku"), "name": text(product, "name") or item_id,
        "price": number(product, "price") or 0, "quantity": quantity if isinstance(quantity, int) else 1,
        "categories": [product["category"]] if text(product, "category") else None,
        "url": text(product, "url"), "imageUrl": text(product, "image_url"),
    })


def purchase(event: dict, settings: Settings) -> dict | None:
    """The commerce/trackPurchase body of an Order Completed event (None when anonymous)."""
    ids, properties = user_ids(event), obj(event, "properties")
    if not ids:
        return None
    items = [item for item in map(_item, products_of(properties)) if item]
    total = first(number(properties, key) for key in ("total", "revenue"))
    if total is None:
        total = sum(item["price"] * item["quantity"] for item in items)
    return compact({
        "id": text(event, "messageId"), "user": {**ids, "preferUserId": settings.prefer_user_id}, "items": items, "total": total,
        "createdAt": event_seconds(event), "dataFields": {k: v for k, v in properties.items() if k != "products"},
    })


def event_name(event: dict) -> str:
    """track: the event name; page/screen: `Viewed <name> Page|Screen`, else `Loaded a Page|Screen`."""
    if event.get("type") == "track":
        return require_event_name(event)
    kind, name = str(event.get("type")).capitalize(), text(event, "name")
    return f"Viewed {name} {kind}" if name else f"Loaded a {kind}"


def _custom(event: dict, settings: Settings) -> list[Request]:
    body = custom_event(event, event_name(event))
    return [_post(settings, "events/track", body)] if body else []


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a custom event; Order Completed: a purchase."""
    if is_order_completed(event):
        body = purchase(event, settings)
        return [_post(settings, "commerce/trackPurchase", body)] if body else []
    return _custom(event, settings)


def page(event: dict, settings: Settings) -> list[Request]:
    """page: `Viewed <name> Page`, or `Loaded a Page` without a name."""
    return _custom(event, settings)


def screen(event: dict, settings: Settings) -> list[Request]:
    """screen: `Viewed <name> Screen`, or `Loaded a Screen` without a name."""
    return _custom(event, settings)


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: update (or create) the user with the traits as data fields."""
    body = user_update(event, settings)
    return [_post(settings, "users/update", body)] if body else []


def batch(events: list, settings: Settings) -> list[Request]:
    """Custom events through trackBulk, users through bulkUpdate, purchases one by one."""
    tracked, users, purchases = [], [], []
    for event in events:
        kind = event.get("type")
        if kind == "identify":
            users.append(user_update(event, settings))
        elif is_order_completed(event):
            purchases += track(event, settings)
        elif kind in ("track", "page", "screen"):
            tracked.append(custom_event(event, event_name(event)))
    tracked, users = [body for body in tracked if body], [body for body in users if body]
    requests = [_post(settings, "events/trackBulk", {"events": part}) for part in chunks(tracked, BATCH_SIZE)]
    users_requests = [_post(settings, "users/bulkUpdate", {"users": part}) for part in chunks(users, BATCH_SIZE)]
    return requests + users_requests + purchases


def interpret(status: int, body: bytes) -> str | None:
    """`{"msg": ..., "code": ..., "params": ...}`: the code and the message."""
    return joined_fields(body, ("code", "msg"))


METHODS = ("track", "identify", "page", "screen")

DESTINATION = Destination(
    slug="iterable",
    name="Iterable",
    categories=("Email Marketing", "Marketing Automation", "SMS & Push Notifications"),
    description=(
        "Cross-channel marketing automation for email, push, SMS and in-app messages. Identify "
        "updates the Iterable user and its data fields; track, page and screen calls become custom "
        "events; completed orders become purchases with their items and total."
    ),
    docs_url="https://api.iterable.com/api/docs",
    settings=Settings,
    translations={"track": track, "identify": identify, "page": page, "screen": screen},
    replay=True,
    presets=method_presets(METHODS),
    batch=batch,
    batch_size=BATCH_SIZE,
    rate_limit=10.0,  # events/trackBulk: 10 requests/second per project, the tightest endpoint used
    interpret=interpret,
)
