"""Braze: user attributes, custom events and purchases through the REST API.

identify becomes an attributes object and track an event object (or purchase objects for
`Order Completed`) of POST /users/track; alias merges the earlier profile into the known one
with POST /users/merge. Known users are addressed by `external_id` (userId), anonymous ones
by a user alias whose name is the anonymousId. Auth: `Authorization: Bearer <REST API key>`
on the instance's REST endpoint. Braze has no event id: it treats every event as unique.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations._email import split_traits
from segue.destinations.common import (
    bearer,
    chunks,
    compact,
    first,
    is_order_completed,
    iso_time,
    json_or_none,
    json_request,
    method_presets,
    number,
    obj,
    products_of,
    require_event_name,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

# The REST endpoints of Braze's documented instances (US-01..US-08, US-10, EU-01, EU-02, AU-01).
RestEndpoint = Literal[
    "https://rest.iad-01.braze.com", "https://rest.iad-02.braze.com", "https://rest.iad-03.braze.com",
    "https://rest.iad-04.braze.com", "https://rest.iad-05.braze.com", "https://rest.iad-06.braze.com",
    "https://rest.iad-07.braze.com", "https://rest.iad-08.braze.com", "https://rest.us-10.braze.com",
    "https://rest.fra-01.braze.eu", "https://rest.fra-02.braze.eu", "https://rest.au-01.braze.com",
]
PER_ARRAY = 75  # objects per attributes/events/purchases array of one /users/track request
MERGES_PER_REQUEST = 50  # merge_updates per /users/merge request
RESERVED_PROPERTIES = ("time", "event_name")  # refused as custom event property names
TRAITS = (
    (("email",), "email"), (("firstName", "first_name"), "first_name"), (("lastName", "last_name"), "last_name"),
    (("phone",), "phone"), (("gender",), "gender"), (("birthday",), "dob"),
)
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O", "n": "N", "p": "P"}


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="REST API Key", description="A REST API key with the users.track and users.merge permissions.")
    rest_endpoint: RestEndpoint = Field(
        "https://rest.iad-01.braze.com", title="REST Endpoint", description="The REST endpoint of your Braze instance.",
    )
    app_id: str | None = Field(None, title="App Identifier", description="Sent as app_id on events and purchases.")
    alias_label: str = Field(
        "anonymous_id", title="Alias Label", description="The user alias label under which anonymousIds are stored.",
    )
    previous_id_kind: Literal["alias", "external_id"] = Field(
        "alias", title="Alias calls merge", description="What an alias call's previousId names: a user alias (an anonymousId) or an earlier external_id.",
    )


def _user(event: dict, settings: Settings) -> dict:
    """external_id for a known user, else a user alias created if missing (`_update_existing_only`)."""
    user_id, anonymous_id = text(event, "userId"), text(event, "anonymousId")
    if user_id:
        return {"external_id": user_id}
    if anonymous_id:
        alias = {"alias_name": anonymous_id, "alias_label": settings.alias_label}
        return {"user_alias": alias, "_update_existing_only": False}
    raise InvalidMessage("Braze needs a userId or an anonymousId", code="missing_field")


def attributes(traits: dict) -> dict:
    """Braze profile fields from reserved traits; the other traits as custom attributes."""
    mapped, custom = split_traits(traits, TRAITS)
    address = custom.pop("address", None)
    if isinstance(address, dict):
        mapped.update(compact({"home_city": address.get("city"), "country": address.get("country")}))
    if "gender" in mapped:
        mapped["gender"] = GENDERS.get(str(mapped["gender"]).lower())
    if isinstance(mapped.get("dob"), str):
        mapped["dob"] = mapped["dob"][:10]
    return {**custom, **compact(mapped)}


def _properties(properties: dict) -> dict:
    return {k: v for k, v in properties.items() if k not in RESERVED_PROPERTIES and not k.startswith("$")}


def purchases(event: dict, settings: Settings) -> list[dict]:
    """One purchase per product of an order (product id, price, quantity); none without prices."""
    properties, base = obj(event, "properties"), {**_user(event, settings), "app_id": settings.app_id}
    currency = text(properties, "currency") or "USD"
    found = []
    for product in products_of(properties):
        product_id = first(text(product, key) for key in ("product_id", "sku", "name", "id"))
        price, quantity = number(product, "price"), number(product, "quantity")
        if product_id and price is not None:
            found.append(compact({
                **base, "product_id": product_id, "currency": currency, "price": price, "time": iso_time(event),
                "quantity": quantity if isinstance(quantity, int) else None,
                "properties": _properties({k: v for k, v in product.items() if k not in ("price", "quantity")}),
            }))
    return found


def user_track_body(event: dict, settings: Settings) -> dict:
    """The /users/track arrays one track or identify call contributes."""
    if event.get("type") == "identify":
        return {"attributes": [{**_user(event, settings), **attributes(obj(event, "traits"))}]}
    name = require_event_name(event)
    if is_order_completed(event) and (bought := purchases(event, settings)):
        return {"purchases": bought}
    item = {**_user(event, settings), "app_id": settings.app_id, "name": name, "time": iso_time(event)}
    return {"events": [compact({**item, "properties": _properties(obj(event, "properties")) or None})]}


def _track_request(body: dict, settings: Settings) -> Request:
    return json_request(f"{settings.rest_endpoint}/users/track", body, bearer(settings.api_key))


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a custom event; Order Completed: a purchase per product."""
    return [_track_request(body, settings) for body in _split(user_track_body(event, settings))]


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: an attributes object (reserved traits as profile fields; none: nothing to send)."""
    return track(event, settings) if obj(event, "traits") else []


def merge_update(event: dict, settings: Settings) -> dict:
    """Merge the profile named by previousId into the one of userId."""
    user_id, previous_id = text(event, "userId"), text(event, "previousId")
    if user_id is None or previous_id is None:
        raise InvalidMessage("alias needs a userId and a previousId", code="missing_field")
    if settings.previous_id_kind == "alias":
        merged = {"user_alias": {"alias_name": previous_id, "alias_label": settings.alias_label}}
    else:
        merged = {"external_id": previous_id}
    return {"identifier_to_merge": merged, "identifier_to_keep": {"external_id": user_id}}


def _merge_request(updates: list[dict], settings: Settings) -> Request:
    return json_request(f"{settings.rest_endpoint}/users/merge", {"merge_updates": updates}, bearer(settings.api_key))


def alias(event: dict, settings: Settings) -> list[Request]:
    """alias: POST /users/merge."""
    return [_merge_request([merge_update(event, settings)], settings)]


def _split(body: dict) -> list[dict]:
    """Bodies whose arrays hold at most PER_ARRAY objects each."""
    longest = max((len(items) for items in body.values()), default=0)
    return [
        {key: items[start:start + PER_ARRAY] for key, items in body.items() if items[start:start + PER_ARRAY]}
        for start in range(0, longest, PER_ARRAY)
    ]


def batch(events: list, settings: Settings) -> list[Request]:
    """Many events: /users/track requests of up to 75 objects per array, merges 50 per request."""
    merged: dict[str, list] = {"attributes": [], "events": [], "purchases": []}
    updates = []
    for event in events:
        if event.get("type") == "alias":
            updates.append(merge_update(event, settings))
        elif event.get("type") == "track" or (event.get("type") == "identify" and obj(event, "traits")):
            for key, items in user_track_body(event, settings).items():
                merged[key] += items
    requests = [_track_request(body, settings) for body in _split({k: v for k, v in merged.items() if v})]
    return requests + [_merge_request(part, settings) for part in chunks(updates, MERGES_PER_REQUEST)]


def interpret(status: int, body: bytes) -> str | None:
    """`{"message": ..., "errors": [...]}`: the message and the errors."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not parsed.get("message"):
        return None
    errors = parsed.get("errors") if isinstance(parsed.get("errors"), list) else []
    return "; ".join([str(parsed["message"]), *(str(error) for error in errors)])


METHODS = ("track", "identify", "alias")

DESTINATION = Destination(
    slug="braze",
    name="Braze",
    categories=("Email Marketing", "Marketing Automation", "SMS & Push Notifications"),
    description=(
        "Customer engagement across email, push, SMS and in-app messages. Identify keeps each "
        "user's Braze profile and custom attributes current, track records custom events (and "
        "purchases for completed orders), and alias merges an anonymous profile into the known user."
    ),
    docs_url="https://www.braze.com/docs/api/endpoints/user_data/post_user_track/",
    settings=Settings,
    translations={"track": track, "identify": identify, "alias": alias},
    platforms=("browser", "mobile", "server"),
    replay=True,
    presets=method_presets(METHODS),
    batch=batch,
    batch_size=PER_ARRAY,
    rate_limit=1000.0,  # /users/track: 3,000 requests per 3 seconds (Braze API rate limits)
    interpret=interpret,
)
