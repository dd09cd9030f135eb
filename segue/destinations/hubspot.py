"""HubSpot: contacts, companies and custom behavioral events through the CRM v3 and Events APIs.

identify upserts the contact by email (POST /crm/v3/objects/contacts/batch/upsert, idProperty
`email`); group upserts the company by a unique company property holding the groupId (POST
/crm/v3/objects/companies/batch/upsert); track sends a custom event occurrence (POST
/events/v3/send). Auth is a Bearer access token: from "Log in to HubSpot" (OAuth 2, refreshed
by Segue) or pasted from a private app.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr

from segue.destinations.common import (
    bearer,
    coded_message,
    compact,
    iso_time,
    json_request,
    method_presets,
    not_connected,
    obj,
    require_group_id,
    stable_hash,
    text,
    trait,
    traits_of,
    website_domain,
)
from segue.destinations.contract import Destination, OAuth, Request, oauth_settings

API = "https://api.hubapi.com"
# Reserved traits (Segment spec 2) -> HubSpot's default contact properties.
CONTACT_PROPERTIES = {
    ("email", None): "email", ("firstName", "first_name"): "firstname", ("lastName", "last_name"): "lastname",
    ("phone", None): "phone", ("title", None): "jobtitle", ("website", None): "website",
    ("company", None): "company",
}
ADDRESS_PROPERTIES = {"street": "address", "city": "city", "state": "state", "postalCode": "zip", "country": "country"}
COMPANY_PROPERTIES = {
    "name": "name", "website": "website", "industry": "industry", "phone": "phone",
    "employees": "numberofemployees", "description": "description",
}
# The properties a contact or company already gets from the reserved traits above.
RESERVED = {"email", "firstName", "first_name", "lastName", "last_name", "phone", "title", "website", "company",
            "address", "name", "industry", "employees", "description", "createdAt", "created_at", "id"}


class Settings(oauth_settings("HubSpot")):
    access_token: SecretStr | None = Field(
        None, title="Access Token",
        description="Set by Log in to HubSpot; or paste a private app's access token.",
    )
    portal_id: str | None = Field(
        None, title="Hub ID", description="Your account's Hub ID: track events go to custom events named pe<HubID>_<event_name>.",
    )
    event_names: dict[str, str] = Field(
        default_factory=dict, title="Event Names",
        description="Segment event name -> fully qualified HubSpot custom event name (wins over the Hub ID rule).",
    )
    company_id_property: str = Field(
        "segue_group_id", title="Company ID Property",
        description="A company property with unique values that holds the Segment groupId (create it in HubSpot).",
    )


def _headers(settings: Settings) -> dict[str, str]:
    if settings.access_token is None:
        raise not_connected("HubSpot")
    return bearer(settings.access_token)


def property_name(key: str) -> str:
    """A trait name as a HubSpot internal property name: lowercase, `_` for anything else."""
    return re.sub(r"[^a-z0-9_]+", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()).strip("_")


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


def _custom(values: dict) -> dict:
    """Other scalar traits as custom properties (they must exist in HubSpot)."""
    return {property_name(k): v for k, v in values.items() if k not in RESERVED and _scalar(v) and property_name(k)}


def contact_properties(traits: dict) -> dict:
    """Reserved traits as HubSpot's default contact properties, then the custom ones."""
    named = {name: trait(traits, camel, snake) for (camel, snake), name in CONTACT_PROPERTIES.items()}
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}
    located = {name: address.get(key) for key, name in ADDRESS_PROPERTIES.items()}
    return {**_custom(traits), **compact(named), **{k: v for k, v in located.items() if _scalar(v)}}


def _upsert(object_type: str, id_property: str, record_id: str, properties: dict, settings: Settings) -> Request:
    body = {"inputs": [{"idProperty": id_property, "id": record_id, "properties": properties}]}
    return json_request(f"{API}/crm/v3/objects/{object_type}/batch/upsert", body, _headers(settings))


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: upsert the contact by email with its traits (no email: nothing to send)."""
    traits = traits_of(event)
    email = text(traits, "email")
    if email is None:
        return []
    return [_upsert("contacts", "email", email, contact_properties(traits), settings)]


def group(event: dict, settings: Settings) -> list[Request]:
    """group: upsert the company whose `company_id_property` is the groupId.

    The contact-company association needs both HubSpot record ids, which only HubSpot knows;
    sending the company's `domain` lets HubSpot's automatic association by email domain link them.
    """
    group_id, traits = require_group_id(event), obj(event, "traits")
    named = {name: traits.get(key) for key, name in COMPANY_PROPERTIES.items() if _scalar(traits.get(key))}
    domain = text(traits, "domain") or website_domain(text(traits, "website"))
    properties = {**_custom(traits), **named, **compact({"domain": domain})}
    properties[settings.company_id_property] = group_id
    return [_upsert("companies", settings.company_id_property, group_id, properties, settings)]


def event_name(event: dict, settings: Settings) -> str | None:
    """The fully qualified HubSpot event name: the configured one, else pe<HubID>_<snake_name>."""
    name = text(event, "event")
    if name is None:
        return None
    if name in settings.event_names:
        return settings.event_names[name]
    return f"pe{settings.portal_id}_{property_name(name)}" if settings.portal_id else None


def _uuid(message_id: str | None) -> str | None:
    """A UUID derived from messageId: HubSpot's dedup key for an occurrence."""
    if message_id is None:
        return None
    digest = stable_hash(message_id)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a custom event occurrence of the contact known by email.

    No HubSpot event name (neither mapped nor derivable from the Hub ID) or no email: not sent.
    """
    name, email = event_name(event, settings), text(traits_of(event), "email") or text(event, "properties.email")
    if name is None or email is None:
        return []
    properties = {property_name(k): v for k, v in obj(event, "properties").items() if _scalar(v) and property_name(k)}
    body = compact({
        "eventName": name, "email": email, "occurredAt": iso_time(event), "properties": properties,
        "uuid": _uuid(text(event, "messageId")),
    })
    return [json_request(f"{API}/events/v3/send", body, _headers(settings))]


def interpret(status: int, body: bytes) -> str | None:
    """HubSpot's `{"status": "error", "message": ..., "category": ...}`, else the plain body."""
    return coded_message(body, "category")


METHODS = ("track", "identify", "group")

DESTINATION = Destination(
    slug="hubspot",
    name="HubSpot",
    categories=("CRM", "Marketing Automation"),
    description=(
        "CRM and marketing platform. Identify keeps each contact's properties current, keyed by "
        "email; group keeps companies current; track records custom behavioral events on the "
        "contact's timeline. Connect with Log in to HubSpot or a private app's access token."
    ),
    docs_url="https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide",
    settings=Settings,
    translations={"track": track, "identify": identify, "group": group},
    platforms=("browser", "mobile", "server"),
    replay=True,  # occurredAt takes past times
    presets=method_presets(METHODS),
    interpret=interpret,
    rate_limit=10.0,  # "100 requests every 10 seconds" per private app / OAuth app and account (HubSpot usage limits)
    oauth=OAuth(
        authorize_url="https://app.hubspot.com/oauth/authorize",
        token_url="https://api.hubapi.com/oauth/v1/token",
        # Scopes the three endpoints document (contacts and companies batch upsert, events send).
        scopes=("oauth", "crm.objects.contacts.write", "crm.objects.companies.write", "analytics.behavioral_events.send"),
    ),
)
