"""SendGrid Marketing Campaigns: contacts through the v3 Contacts API.

identify upserts the contact (PUT /v3/marketing/contacts, keyed by email) with SendGrid's
reserved fields, the configured custom fields and the lists it joins; a batch upserts up to
30,000 contacts or 6 MB in one request. The Marketing Campaigns API has no endpoint for
events, so track, page and screen are not supported. Auth: `Authorization: Bearer <API key>`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations._email import split_traits
from segue.destinations.common import (
    bearer,
    compact,
    encode_json,
    json_or_none,
    json_request,
    listed_errors,
    method_presets,
    obj,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

HOSTS = {"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"}
BATCH_SIZE = 30_000  # contacts per upsert request (documented maximum) ...
MAX_BYTES = 6_000_000  # ... or 6 MB of data, whichever is lower
TRAITS = (
    (("firstName", "first_name"), "first_name"), (("lastName", "last_name"), "last_name"),
    (("phone",), "phone_number"),
)
ADDRESS = (
    ("address_line_1", "street"), ("city", "city"), ("state_province_region", "state"),
    ("postal_code", "postalCode"), ("country", "country"),
)


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="An API key with the Marketing Campaigns contacts permission.")
    region: Literal["global", "eu"] = Field("global", title="Region", description="The account's data residency (eu for EU regional subusers).")
    list_ids: list[str] = Field(default_factory=list, title="List IDs", description="Lists every identified contact is added to.")
    custom_fields: dict[str, str] = Field(
        default_factory=dict, title="Custom Fields",
        description="Trait name -> custom field ID (such as e1_T); the fields must already exist in SendGrid.",
    )


def contact(event: dict, settings: Settings) -> dict | None:
    """The contact of an identify call: email, reserved fields, address, custom fields (None without email)."""
    traits = obj(event, "traits")
    email = text(traits, "email")
    if email is None:
        return None
    mapped, custom = split_traits(traits, TRAITS)
    address = custom.get("address") if isinstance(custom.get("address"), dict) else {}
    fields = {field_id: custom[name] for name, field_id in settings.custom_fields.items() if custom.get(name) is not None}
    located = {field: text(address, segment) for field, segment in ADDRESS}
    return compact({"email": email, **mapped, **located, "custom_fields": fields or None})


def _upsert(contacts: list[dict], settings: Settings) -> Request:
    body = compact({"list_ids": settings.list_ids or None, "contacts": contacts})
    return json_request(f"{HOSTS[settings.region]}/v3/marketing/contacts", body, bearer(settings.api_key), method="PUT")


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: upsert the contact (no email in the traits: nothing to send)."""
    found = contact(event, settings)
    return [_upsert([found], settings)] if found else []


def _merged_by_email(events: list, settings: Settings) -> list[dict]:
    """One contact per email, later identify calls updating earlier ones."""
    contacts: dict[str, dict] = {}
    for event in events:
        found = contact(event, settings) if event.get("type") == "identify" else None
        if found:
            key = found["email"].lower()
            contacts[key] = {**contacts.get(key, {}), **found}
    return list(contacts.values())


def _groups(contacts: list[dict]) -> list[list[dict]]:
    """Consecutive groups within the request limits (30,000 contacts, 6 MB)."""
    groups: list[list[dict]] = []
    size = MAX_BYTES
    for item in contacts:
        item_size = len(encode_json(item)) + 1
        if size + item_size > MAX_BYTES or len(groups[-1]) >= BATCH_SIZE:
            groups.append([])
            size = 1024  # room for list_ids and the envelope
        groups[-1].append(item)
        size += item_size
    return groups


def batch(events: list, settings: Settings) -> list[Request]:
    """Many identify calls: as few upserts as the limits allow."""
    return [_upsert(group, settings) for group in _groups(_merged_by_email(events, settings))]


def interpret(status: int, body: bytes) -> str | None:
    """`{"errors": [{"field": ..., "message": ...}]}`."""
    return listed_errors(json_or_none(body), _error)


def _error(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    return f"{error.get('field')}: {error.get('message')}" if error.get("field") else str(error.get("message"))


METHODS = ("identify",)

DESTINATION = Destination(
    slug="sendgrid-marketing-campaigns",
    name="SendGrid Marketing Campaigns",
    categories=("Email Marketing",),
    description=(
        "Twilio SendGrid's newsletters and automations. Identify adds the person to SendGrid's "
        "Marketing Campaigns contacts, or updates them, with name, phone, address and chosen "
        "custom fields, and can add them to lists. SendGrid takes no events, so only identify is sent."
    ),
    docs_url="https://www.twilio.com/docs/sendgrid/api-reference/contacts/add-or-update-a-contact",
    settings=Settings,
    translations={"identify": identify},
    presets=method_presets(METHODS),
    batch=batch,
    batch_size=BATCH_SIZE,
    rate_limit=0.0,  # SendGrid documents no request rate for this endpoint (it reports limits in headers)
    interpret=interpret,
)
