"""Loops: contacts and events through the Loops REST API (v1).

identify creates or updates the contact (PUT /api/v1/contacts/update) with its standard fields
and the other traits as custom properties; track sends an event that can start loops (POST
/api/v1/events/send), with messageId in the `Idempotency-Key` header so a retried event is sent
once. Contacts are found by email and/or userId. Auth: `Authorization: Bearer <API key>`.
"""

from __future__ import annotations

import json

from pydantic import Field, SecretStr

from segue.destinations._email import split_traits
from segue.destinations.common import (
    bearer,
    compact,
    joined_fields,
    json_request,
    method_presets,
    obj,
    require_event_name,
    stable_hash,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://app.loops.so/api/v1"
MAX_IDEMPOTENCY_KEY = 100  # characters
TRAITS = ((("firstName", "first_name"), "firstName"), (("lastName", "last_name"), "lastName"))
RESERVED = ("email", "userId", "id", "mailingLists", "eventName", "eventProperties")


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="A Loops API key (Settings > API).")
    user_group: str | None = Field(None, title="User Group", description="The user group new and updated contacts are put in.")
    mailing_lists: list[str] = Field(
        default_factory=list, title="Mailing List IDs", description="Mailing lists every identified contact subscribes to.",
    )


def _scalar(value: object) -> object:
    """Loops values are strings, numbers, booleans or dates: anything else as JSON text."""
    return value if isinstance(value, (str, int, float, bool)) else json.dumps(value, ensure_ascii=False)


def contact_properties(traits: dict) -> dict:
    """firstName/lastName from the reserved traits; other traits as flat custom properties."""
    mapped, custom = split_traits(traits, TRAITS)
    properties = {key: _scalar(value) for key, value in custom.items() if key not in RESERVED and value is not None}
    return {**properties, **mapped}


def contact_ids(event: dict) -> dict:
    return compact({"email": text(traits_of(event), "email"), "userId": text(event, "userId")})


def _lists(settings: Settings) -> dict:
    return {"mailingLists": {list_id: True for list_id in settings.mailing_lists}} if settings.mailing_lists else {}


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create or update the contact (neither email nor userId: nothing to send)."""
    ids = contact_ids(event)
    if not ids:
        return []
    body = {**contact_properties(obj(event, "traits")), **compact({"userGroup": settings.user_group}), **ids, **_lists(settings)}
    return [json_request(f"{API}/contacts/update", body, bearer(settings.api_key), method="PUT")]


def idempotency_key(event: dict) -> dict[str, str]:
    """`Idempotency-Key` from messageId (hashed when longer than Loops allows)."""
    message_id = text(event, "messageId")
    if message_id is None:
        return {}
    return {"Idempotency-Key": message_id if len(message_id) <= MAX_IDEMPOTENCY_KEY else stable_hash(message_id, 64)}


def track(event: dict, settings: Settings) -> list[Request]:
    """track: an event of the contact, properties as eventProperties (anonymous: nothing)."""
    name, ids = require_event_name(event), contact_ids(event)
    if not ids:
        return []
    properties = {key: _scalar(value) for key, value in obj(event, "properties").items() if value is not None}
    body = {**ids, "eventName": name, **({"eventProperties": properties} if properties else {})}
    return [json_request(f"{API}/events/send", body, {**bearer(settings.api_key), **idempotency_key(event)})]


def interpret(status: int, body: bytes) -> str | None:
    """`{"success": false, "message": ...}`."""
    return joined_fields(body, ("message",))


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="loops",
    name="Loops",
    categories=("Email Marketing", "Marketing Automation"),
    description=(
        "Email for software companies: product updates, onboarding loops and transactional mail. "
        "Identify creates or updates the Loops contact with its name, user group, mailing lists "
        "and custom properties; track sends events that start loops, each delivered once."
    ),
    docs_url="https://loops.so/docs/api-reference/send-event",
    settings=Settings,
    translations={"track": track, "identify": identify},
    presets=method_presets(METHODS),
    rate_limit=10.0,  # Loops: a baseline of 10 requests per second per team
    interpret=interpret,
)
