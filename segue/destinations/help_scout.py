"""Help Scout: customers through the Mailbox API 2.0 (POST /v2/customers, Bearer token).

identify creates the customer with their name, email, phone, job title, photo, location,
website and address. Help Scout authenticates with OAuth 2 (client credentials or
authorization code); this destination takes an access token obtained beforehand. Tokens from
the client-credentials flow expire after two days, so the setting must be renewed.

What the API cannot take from a pure translation: updating a customer, attaching properties
and adding a note all address the customer by Help Scout's own numeric id, which only a search
can give. identify therefore creates customers only; one Help Scout already has fails visibly
in the delivery log. Help Scout has no event API, so track is not supported.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr

from segue.destinations._messaging import email_of, phone_of
from segue.destinations.common import (
    bearer,
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    obj,
    text,
    trait,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

URL = "https://api.helpscout.net/v2/customers"
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
GENDERS = {"male": "Male", "female": "Female"}


class Settings(DestinationSettings):
    access_token: SecretStr = Field(
        title="Access Token",
        description="A Mailbox API 2.0 OAuth access token (client credentials tokens last two days).",
    )


def _clip(value: str | None, limit: int) -> str | None:
    """The value cut to Help Scout's maximum length for the field."""
    return value[:limit] if value else None


def _address(traits: dict) -> dict | None:
    """The address trait, only when it has the ISO country code Help Scout requires."""
    address = obj(traits, "address")
    country = (text(address, "country") or "").upper()
    if not COUNTRY_CODE.fullmatch(country):
        return None
    street = text(address, "street")
    return compact({
        "city": text(address, "city"), "state": text(address, "state"), "country": country,
        "postalCode": text(address, "postalCode") or text(address, "postal_code"),
        "lines": [street] if street else None,
    })


def customer(event: dict) -> dict:
    """The Help Scout customer an identify call describes (field lengths as documented)."""
    traits, email, website = obj(event, "traits"), email_of(event), text(obj(event, "traits"), "website")
    gender = GENDERS.get((text(traits, "gender") or "").lower())
    return compact({
        "firstName": _clip(text(traits, "firstName") or text(traits, "first_name"), 40),
        "lastName": _clip(text(traits, "lastName") or text(traits, "last_name"), 40),
        "phone": phone_of(event), "photoUrl": _clip(text(traits, "avatar"), 200),
        "jobTitle": _clip(text(traits, "title"), 60), "background": _clip(text(traits, "description"), 200),
        "location": _clip(text(obj(traits, "address"), "city"), 60), "gender": gender,
        "age": text(traits, "age"), "organization": _clip(text(obj(traits, "company"), "name"), 60),
        "emails": [{"type": "work", "value": email}] if email else None,
        "websites": [{"value": website}] if website else None, "address": _address(traits),
    })


def _named(traits: dict) -> bool:
    return bool(trait(traits, "firstName", "first_name") or trait(traits, "lastName", "last_name"))


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create the customer (needs an email or a first or last name)."""
    if not (email_of(event) or _named(obj(event, "traits"))):
        return []  # nothing to recognise the customer by
    return [json_request(URL, customer(event), bearer(settings.access_token))]


def interpret(status: int, body: bytes) -> str | None:
    """Help Scout's vnd.error body: `message` and the `_embedded.errors` path/message pairs."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not parsed.get("message"):
        return error_text(body) if parsed is None else None
    errors = obj(parsed, "_embedded").get("errors")
    details = [f"{item.get('path')}: {item.get('message')}" for item in errors or [] if isinstance(item, dict)]
    return "; ".join([str(parsed["message"]), *details])


METHODS = ("identify",)

DESTINATION = Destination(
    slug="help-scout",
    name="Help Scout",
    categories=("Customer Success",),
    description=(
        "Help desk with shared inboxes and a knowledge base. Identify adds the people you "
        "support as Help Scout customers, with their name, email, phone, job, company and "
        "address, so agents know who is writing before they reply."
    ),
    docs_url="https://developer.helpscout.com/mailbox-api/endpoints/customers/create/",
    settings=Settings,
    translations={"identify": identify},
    platforms=("browser", "mobile", "server"),
    status="beta",  # create-only: Help Scout's answer for an email it already has is not documented
    presets=method_presets(METHODS),
    rate_limit=400 / 60,  # 400 requests a minute per account (Mailbox API 2.0 "Rate limiting")
    interpret=interpret,
)
