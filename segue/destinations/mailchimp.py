"""Mailchimp: audience members and their events through the Marketing API (v3).

identify adds or updates the list member (PUT /lists/{list_id}/members/{subscriber_hash}, the
hash being the MD5 of the lowercased email) with merge fields from the traits; track adds an
event to that member (POST .../members/{subscriber_hash}/events). The data center comes from
the API key's suffix (`...-us6` -> `us6.api.mailchimp.com`). Auth: HTTP Basic, any user name
and the API key as password. Mailchimp events have no id, so retries cannot be deduplicated.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from segue.destinations._email import split_traits
from segue.destinations.common import (
    basic_auth,
    compact,
    iso_time,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

DATA_CENTER = re.compile(r"-([a-z0-9]+)$")
EVENT_NAME_INVALID = re.compile(r"[^A-Za-z0-9_-]+")  # names: 2 to 30 letters, digits, _ and -
MERGE_TAG = re.compile(r"[A-Z0-9_]{1,10}")  # merge field tags: at most 10 characters
TRAITS = (
    (("firstName", "first_name"), "FNAME"), (("lastName", "last_name"), "LNAME"), (("phone",), "PHONE"),
    (("birthday",), "BIRTHDAY"),
)
ADDRESS = (("addr1", "street"), ("city", "city"), ("state", "state"), ("zip", "postalCode"), ("country", "country"))


class Settings(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="A Marketing API key; its suffix (such as us6) names the data center.")
    list_id: str = Field(title="Audience ID", description="The ID of the audience (list) that members join.")
    double_opt_in: bool = Field(False, title="Double opt-in", description="New members are `pending` until they confirm by email (else `subscribed`).")

    @field_validator("api_key")
    @classmethod
    def _has_data_center(cls, value: SecretStr) -> SecretStr:
        if not DATA_CENTER.search(value.get_secret_value()):
            raise ValueError("a Mailchimp API key ends with its data center, such as -us6")
        return value


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 hex digest of the lowercased email."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def _member_url(settings: Settings, email: str, suffix: str = "") -> str:
    key = settings.api_key.get_secret_value()
    data_center = DATA_CENTER.search(key).group(1)
    list_id = quote(settings.list_id, safe="")
    return f"https://{data_center}.api.mailchimp.com/3.0/lists/{list_id}/members/{subscriber_hash(email)}{suffix}"


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": basic_auth("segue", settings.api_key.get_secret_value())}


def _email(event: dict) -> str | None:
    """The member's email; without one Mailchimp has no member to update (nothing is sent)."""
    return text(traits_of(event), "email") or text(event, "properties.email")


def merge_fields(traits: dict) -> dict:
    """FNAME, LNAME, PHONE, BIRTHDAY (MM/DD), ADDRESS, and custom scalar traits whose names are valid tags."""
    mapped, custom = split_traits(traits, TRAITS)
    if isinstance(mapped.get("BIRTHDAY"), str) and len(mapped["BIRTHDAY"]) >= 10:
        mapped["BIRTHDAY"] = f"{mapped['BIRTHDAY'][5:7]}/{mapped['BIRTHDAY'][8:10]}"
    address = custom.get("address") if isinstance(custom.get("address"), dict) else {}
    parts = compact({field: text(address, segment) for field, segment in ADDRESS})
    if {"addr1", "city", "state", "zip"} <= parts.keys():  # Mailchimp's required address parts
        mapped["ADDRESS"] = parts
    for key, value in custom.items():
        if MERGE_TAG.fullmatch(key.upper()) and isinstance(value, (str, int, float)) and key != "email":
            mapped.setdefault(key.upper(), value)
    return mapped


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: add or update the member; merge fields from the traits (no email: nothing)."""
    email, traits = _email(event), obj(event, "traits")
    if email is None:
        return []
    body = compact({
        "email_address": email, "status_if_new": "pending" if settings.double_opt_in else "subscribed",
        "merge_fields": merge_fields(traits) or None, "language": _language(event),
    })
    url = _member_url(settings, email) + "?skip_merge_validation=true"
    return [json_request(url, body, _headers(settings), method="PUT")]


def _language(event: dict) -> str | None:
    locale = text(event, "context.locale")
    return locale.split("-")[0].lower() if locale else None


def event_name(name: str) -> str:
    """The Segment event name within Mailchimp's rules: letters, digits, _ and -, 2 to 30 long."""
    cleaned = EVENT_NAME_INVALID.sub("_", name.strip()).strip("_")[:30]
    if len(cleaned) < 2:
        raise InvalidMessage(f"Mailchimp cannot name an event {name!r}", code="invalid_field")
    return cleaned


def _string(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def track(event: dict, settings: Settings) -> list[Request]:
    """track: an event of the member (properties as strings, occurred_at; no email: nothing)."""
    name, email = require_event_name(event), _email(event)
    if email is None:
        return []
    properties = {key: _string(value) for key, value in obj(event, "properties").items() if value is not None}
    body = compact({"name": event_name(name), "properties": properties or None, "occurred_at": iso_time(event)})
    return [json_request(_member_url(settings, email, "/events"), body, _headers(settings))]


def interpret(status: int, body: bytes) -> str | None:
    """Problem details: `{"title", "detail", "errors": [{"field", "message"}]}`."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not (parsed.get("detail") or parsed.get("title")):
        return None
    parts = [": ".join(str(parsed[key]) for key in ("title", "detail") if parsed.get(key))]
    for error in parsed.get("errors") if isinstance(parsed.get("errors"), list) else []:
        if isinstance(error, dict):
            parts.append(f"{error.get('field') or 'field'}: {error.get('message')}")
    return "; ".join(parts)


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="mailchimp",
    name="Mailchimp",
    categories=("Email Marketing", "Marketing Automation"),
    description=(
        "Email marketing for audiences and automated journeys. Identify adds the person to an "
        "audience or updates them, with first and last name, phone, birthday, address and other "
        "traits as merge fields; track records member events that can start customer journeys."
    ),
    docs_url="https://mailchimp.com/developer/marketing/api/list-members/add-or-update-list-member/",
    settings=Settings,
    translations={"track": track, "identify": identify},
    platforms=("browser", "mobile", "server"),
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=0.0,  # Mailchimp documents 10 simultaneous connections per account, no request rate
    interpret=interpret,
)
