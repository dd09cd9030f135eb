"""Attio: people and companies through the REST API v2 "assert" (upsert) endpoints.

identify asserts the person matched by email (PUT /v2/objects/people/records?
matching_attribute=email_addresses); group asserts the company matched by domain (PUT
/v2/objects/companies/records?matching_attribute=domains) and, when the user's email is known,
asserts that person again with the company reference, which links them. Auth is a Bearer
access token (a workspace API key).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from segue.destinations.common import (
    bearer,
    coded_message,
    compact,
    full_name,
    json_request,
    method_presets,
    obj,
    text,
    trait,
    traits_of,
    website_domain,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://api.attio.com/v2/objects"


class Settings(DestinationSettings):
    access_token: SecretStr = Field(
        title="Access Token", description="A workspace access token with record_permission:read-write scope.",
    )
    custom_attributes: dict[str, str] = Field(
        default_factory=dict, title="Custom Attributes",
        description="Trait name -> Attio attribute slug, for traits beyond the standard ones.",
    )


def _assert(settings: Settings, object_slug: str, matching: str, values: dict) -> Request:
    url = f"{API}/{object_slug}/records?matching_attribute={matching}"
    return json_request(url, {"data": {"values": values}}, bearer(settings.access_token), method="PUT")


def _custom(traits: dict, settings: Settings) -> dict:
    return {slug: traits[name] for name, slug in settings.custom_attributes.items() if traits.get(name) is not None}


def person_values(traits: dict, settings: Settings) -> dict:
    """Reserved traits as Attio's standard person attributes, plus the configured custom ones."""
    first, last = trait(traits, "firstName", "first_name"), trait(traits, "lastName", "last_name")
    full = text(traits, "name") or full_name(traits)  # a numeric name too
    name = compact({"first_name": first, "last_name": last, "full_name": full}) if full else None
    phone = text(traits, "phone")
    values = {
        "email_addresses": [text(traits, "email")], "name": name and [name],
        "phone_numbers": phone and [{"original_phone_number": phone}],
        "job_title": text(traits, "title"), "description": text(traits, "description"),
    }
    return {**_custom(traits, settings), **compact(values)}


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: assert the person matched by email (no email: nothing to match, not sent)."""
    traits = traits_of(event)
    if text(traits, "email") is None:
        return []
    return [_assert(settings, "people", "email_addresses", person_values(traits, settings))]


def group(event: dict, settings: Settings) -> list[Request]:
    """group: assert the company matched by domain, then link the user (by email) to it.

    A group without a website or domain trait cannot be matched: nothing is sent.
    """
    traits = obj(event, "traits")
    domain = website_domain(text(traits, "domain") or text(traits, "website"))
    if domain is None:
        return []
    values = {**_custom(traits, settings), "domains": [domain], **compact({"name": text(traits, "name")})}
    requests = [_assert(settings, "companies", "domains", values)]
    email = text(obj(event, "context.traits"), "email")
    if email is not None:
        link = {"email_addresses": [email], "company": [{"target_object": "companies", "domains": [{"domain": domain}]}]}
        requests.append(_assert(settings, "people", "email_addresses", link))
    return requests


def interpret(status: int, body: bytes) -> str | None:
    """Attio's `{"status_code": ..., "type": ..., "code": ..., "message": ...}`, else the plain body."""
    return coded_message(body)


METHODS = ("identify", "group")

DESTINATION = Destination(
    slug="attio",
    name="Attio",
    categories=("CRM",),
    description=(
        "A CRM built around flexible records. Identify creates or updates the person with the "
        "same email address; group does the same for the company with the same domain and links "
        "the user to it."
    ),
    docs_url="https://docs.attio.com/rest-api/endpoint-reference/people/assert-a-person-record",
    settings=Settings,
    translations={"identify": identify, "group": group},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    interpret=interpret,
    rate_limit=25.0,  # Attio: 25 write requests per second per workspace (rate limiting page)
)
