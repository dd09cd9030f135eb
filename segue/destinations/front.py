"""Front: contacts and contact notes through the Core API (Bearer API token).

Contacts are addressed by handle through Front's resource aliases (`alt:email:<email>`, else
`alt:phone:<phone>`). identify updates the contact's name, description, links and custom
fields (PATCH /contacts/{alias}); track adds a note to the contact (POST
/contacts/{alias}/notes) for the events given a note template, written as the teammate in
`noteAuthor`. Front has no event API: notes are its documented place for activity.

Front has no create-or-update call for contacts: creating one whose handle exists answers an
error, and a translation makes no lookups. identify therefore updates contacts Front already
has (every conversation creates one for its sender); an unknown handle fails visibly.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from segue.destinations._messaging import email_of, phone_of, render, scalars
from segue.destinations.common import (
    bearer,
    compact,
    error_text,
    full_name,
    json_or_none,
    json_request,
    method_presets,
    obj,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://api2.frontapp.com"
CONTACT_TRAITS = ("email", "phone", "name", "firstName", "first_name", "lastName", "last_name", "description",
                  "website", "avatar", "address", "company")


class Settings(DestinationSettings):
    api_token: SecretStr = Field(title="API Token", description="A Front API token with access to contacts.")
    send_custom_fields: bool = Field(
        False,
        description="Send other flat traits as custom fields. Front replaces the whole set: unsent fields are erased.",
    )
    note_author: str | None = Field(
        None, description="The teammate who writes track notes: an id (`tea_...`) or `alt:email:<teammate email>`."
    )
    note_templates: dict[str, str] = Field(
        default_factory=dict, description="Event name -> note template (`{{properties.plan}}`); only these are sent."
    )

    @model_validator(mode="after")
    def _author_for_notes(self) -> "Settings":
        if self.note_templates and not self.note_author:
            raise ValueError("noteAuthor is required when noteTemplates is set")
        return self


def contact_alias(event: dict) -> str | None:
    """The contact's alias from its email handle, else its phone handle (None when neither)."""
    email, phone = email_of(event), phone_of(event)
    handle = f"alt:email:{email}" if email else f"alt:phone:{phone}" if phone else None
    return quote(handle, safe=":@+") if handle else None


def _links(traits: dict) -> list | None:
    website = text(traits, "website")
    return [website] if website else None


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: update the contact's name, description, links (and custom fields when enabled).

    Front's update replaces the contact's whole custom field set, so custom fields are opt-in.
    """
    traits, alias = obj(event, "traits"), contact_alias(event)
    if alias is None:
        return []  # Front finds contacts by handle: no email or phone, nothing to update
    body = compact({
        "name": full_name(traits), "description": text(traits, "description"), "links": _links(traits),
        "custom_fields": (scalars(traits, CONTACT_TRAITS) or None) if settings.send_custom_fields else None,
    })
    return [json_request(f"{API}/contacts/{alias}", body, bearer(settings.api_token), "PATCH")] if body else []


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a note on the contact when the event has a note template, nothing otherwise."""
    name = text(event, "event")
    template = settings.note_templates.get(name) if name else None
    alias = contact_alias(event)
    if template is None or alias is None:
        return []
    body = {"author_id": settings.note_author, "body": render(template, {**event, "event": name})}
    return [json_request(f"{API}/contacts/{alias}/notes", body, bearer(settings.api_token))]


def interpret(status: int, body: bytes) -> str | None:
    """Front's `{"_error": {"status", "title", "message"}}`, else the text."""
    parsed = json_or_none(body)
    error = parsed.get("_error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        parts = [str(error[key]) for key in ("title", "message") if error.get(key)]
        return ": ".join(parts) or None
    return error_text(body)


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="front",
    name="Front",
    categories=("Customer Success",),
    description=(
        "Shared inbox for customer communication. Identify keeps the contacts your team writes "
        "to up to date (name, description, links, custom fields); chosen track events become "
        "notes on the contact, so the team sees them next to the conversation."
    ),
    docs_url="https://dev.frontapp.com/reference/contacts",
    settings=Settings,
    translations={"track": track, "identify": identify},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    rate_limit=50 / 60,  # 50 requests a minute on the smallest plan (Front "Rate limiting")
    interpret=interpret,
)
