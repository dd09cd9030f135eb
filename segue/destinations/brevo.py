"""Brevo (formerly Sendinblue): contacts and custom events through the v3 API.

identify creates or updates the contact (POST /v3/contacts with `updateEnabled`), keyed by
email and `ext_id` (userId); track creates a custom event of that contact (POST /v3/events)
with its properties and, optionally, contact attributes. Brevo events have no id, so retries
cannot be deduplicated. Auth: the API key in the `api-key` header.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr

from segue.destinations._email import e164, split_traits
from segue.destinations.common import (
    compact,
    iso_time,
    joined_fields,
    json_request,
    method_presets,
    obj,
    require_event_name,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://api.brevo.com/v3"
INVALID_NAME = re.compile(r"[^A-Za-z0-9_-]+")  # event names and property keys: letters, digits, - and _
TRAITS = ((("firstName", "first_name"), "FIRSTNAME"), (("lastName", "last_name"), "LASTNAME"), (("phone",), "SMS"))


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="A Brevo v3 API key.")
    list_ids: list[int] = Field(default_factory=list, title="List IDs", description="Lists every identified contact is added to.")
    attributes: dict[str, str] = Field(
        default_factory=dict, title="Contact Attributes",
        description="Trait name -> Brevo contact attribute (such as plan -> PLAN); the attributes must exist in Brevo.",
    )


def _headers(settings: Settings) -> dict[str, str]:
    return {"api-key": settings.api_key.get_secret_value(), "Accept": "application/json"}


def contact_attributes(traits: dict, settings: Settings) -> dict:
    """FIRSTNAME, LASTNAME, SMS (E.164 only) and the configured attributes."""
    mapped, custom = split_traits(traits, TRAITS)
    mapped["SMS"] = e164(mapped.get("SMS"))
    configured = {attribute: custom.get(name) for name, attribute in settings.attributes.items()}
    return compact({**mapped, **configured})


def _key(name: str) -> str:
    return INVALID_NAME.sub("_", name).strip("_")[:255] or "_"


def clean_keys(value: object) -> object:
    """Property keys within Brevo's alphabet, at every level."""
    if isinstance(value, dict):
        return {_key(str(key)): clean_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_keys(item) for item in value]
    return value


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create or update the contact (neither email nor userId: nothing to send)."""
    traits = obj(event, "traits")
    email, user_id = text(traits, "email"), text(event, "userId")
    if not (email or user_id):
        return []
    body = compact({
        "email": email, "ext_id": user_id, "attributes": contact_attributes(traits, settings) or None,
        "listIds": settings.list_ids or None, "updateEnabled": True,
    })
    return [json_request(f"{API}/contacts", body, _headers(settings))]


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a custom event of the contact found by email and/or userId (neither: nothing)."""
    name, traits = require_event_name(event), traits_of(event)
    identifiers = compact({"email_id": text(traits, "email"), "ext_id": text(event, "userId")})
    if not identifiers:
        return []
    body = compact({
        "event_name": _key(name), "event_date": iso_time(event), "identifiers": identifiers,
        "contact_properties": contact_attributes(traits, settings) or None,
        "event_properties": clean_keys(obj(event, "properties")) or None,
    })
    return [json_request(f"{API}/events", body, _headers(settings))]


def interpret(status: int, body: bytes) -> str | None:
    """`{"code": ..., "message": ...}`."""
    return joined_fields(body, ("code", "message"))


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="brevo",
    name="Brevo",
    categories=("Email Marketing", "Marketing Automation", "SMS & Push Notifications"),
    description=(
        "Email, SMS and WhatsApp marketing with automation workflows (formerly Sendinblue). "
        "Identify creates or updates the Brevo contact with its name, mobile number, chosen "
        "attributes and lists; track records custom events that segment contacts and trigger workflows."
    ),
    docs_url="https://developers.brevo.com/reference/create-event",
    settings=Settings,
    translations={"track": track, "identify": identify},
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=10.0,  # POST /v3/events and /v3/contacts: 10 requests/second (36,000/hour), general tier
    interpret=interpret,
)
