"""Zendesk: users, organizations and user events through the Support and Events APIs.

identify creates or updates the end user (POST /api/v2/users/create_or_update, matched on
external_id, then email); group creates or updates the organization (POST
/api/v2/organizations/create_or_update, matched on external_id) and puts the user in it by
name; track adds an event to the user's profile timeline (POST /api/v2/user_profiles/events).
Auth is HTTP Basic with `{agent email}/token` and an API token.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from segue.destinations._messaging import email_of, phone_of, scalars
from segue.destinations.common import (
    basic_auth,
    compact,
    error_text,
    full_name,
    iso_time,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    require_group_id,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

USER_TRAITS = ("email", "name", "firstName", "first_name", "lastName", "last_name", "phone", "id", "company",
               "address", "description")
ORGANIZATION_TRAITS = ("name", "description", "id", "website")


class Settings(DestinationSettings):
    subdomain: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$", description="The account's subdomain: `acme` for acme.zendesk.com."
    )
    email: str = Field(title="Agent Email", description="The email of the agent or admin who owns the API token.")
    api_token: SecretStr = Field(title="API Token", description="A Zendesk API token (Admin Center > Apps > API).")
    source: str = Field("segue", description="The source name given to profiles and events in the Events API.")
    profile_type: str = Field("customer", description="The profile type the Events API files the users under.")


def _post(settings: Settings, path: str, body: dict) -> Request:
    auth = basic_auth(f"{settings.email}/token", settings.api_token.get_secret_value())
    return json_request(f"https://{settings.subdomain}.zendesk.com/api/v2{path}", body, {"Authorization": auth})


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create or update the end user; reserved traits to Zendesk fields, others to user_fields.

    Zendesk requires a name to create a user: the name trait, else the email, else the userId.
    """
    traits, user_id, email = obj(event, "traits"), text(event, "userId"), email_of(event)
    if user_id is None and email is None:
        return []  # Zendesk matches users on external_id or email: nothing to match on
    user = {
        "name": full_name(traits) or email or user_id, "email": email, "external_id": user_id,
        "phone": phone_of(event), "notes": text(traits, "description"),
        "user_fields": scalars(traits, USER_TRAITS) or None,
    }
    return [_post(settings, "/users/create_or_update", {"user": compact(user)})]


def group(event: dict, settings: Settings) -> list[Request]:
    """group: create or update the organization; then put the known user in it (by name).

    The user request carries no name, so it never overwrites one: the user should already exist.
    """
    found = organization(event)
    requests = [_post(settings, "/organizations/create_or_update", {"organization": found})]
    user_id, email = text(event, "userId"), email_of(event)
    if user_id or email:
        user = {"external_id": user_id, "email": email, "organization": {"name": found["name"]}}
        requests.append(_post(settings, "/users/create_or_update", {"user": compact(user)}))
    return requests


def organization(event: dict) -> dict:
    """The organization a group call describes, keyed by external_id (the groupId)."""
    group_id, traits = require_group_id(event), obj(event, "traits")
    return compact({
        "external_id": group_id, "name": text(traits, "name") or group_id,  # Zendesk requires a name
        "details": text(traits, "description"), "organization_fields": scalars(traits, ORGANIZATION_TRAITS) or None,
    })


def identifiers(event: dict) -> list[dict]:
    """The profile identifiers Zendesk matches to a user: external_id (userId), email, phone."""
    pairs = (("external_id", text(event, "userId")), ("email", email_of(event)), ("phone_number", phone_of(event)))
    return [{"type": kind, "value": value} for kind, value in pairs if value]


def track(event: dict, settings: Settings) -> list[Request]:
    """track: an event of the user's profile, typed by the event name, at the event's time."""
    name, found = require_event_name(event), identifiers(event)
    if not found:
        return []  # a profile needs an identifier of the person
    profile = {"source": settings.source, "type": settings.profile_type, "identifiers": found,
               "name": full_name(obj(event, "context.traits"))}
    details = {"source": settings.source, "type": name, "properties": obj(event, "properties"),
               "created_at": iso_time(event)}
    return [_post(settings, "/user_profiles/events", {"profile": compact(profile), "event": compact(details)})]


def interpret(status: int, body: bytes) -> str | None:
    """Zendesk's `{"error", "description", "details"}`, `{"error": {"title", "message"}}` or `{"errors": [...]}`."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return error_text(body)
    if isinstance(parsed.get("errors"), list):
        return "; ".join(_describe(error) for error in parsed["errors"]) or None
    error = parsed.get("error")
    if isinstance(error, dict):
        return _describe(error)
    parts = [str(part) for part in (error, parsed.get("description")) if part] + _field_errors(parsed)
    return "; ".join(parts) or error_text(body)


def _field_errors(parsed: dict) -> list[str]:
    """`details: {field: [{"description"}]}` as `field: description` lines."""
    details = parsed.get("details")
    if not isinstance(details, dict):
        return []
    return [f"{field}: {_describe(item)}" for field, items in details.items()
            for item in (items if isinstance(items, list) else [items])]


def _describe(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    keys = ("code", "title", "message", "detail", "description")
    return " - ".join(str(error[key]) for key in keys if error.get(key))


METHODS = ("track", "identify", "group")

DESTINATION = Destination(
    slug="zendesk",
    name="Zendesk",
    categories=("Customer Success",),
    description=(
        "Customer service and ticketing. Identify keeps end users' details current so agents see "
        "who is writing in; group keeps organizations up to date and places users in them; track "
        "adds what users did to their profile's event timeline (Events API, Suite plans)."
    ),
    docs_url="https://developer.zendesk.com/api-reference/ticketing/users/users/",
    settings=Settings,
    translations={"track": track, "identify": identify, "group": group},
    platforms=("browser", "mobile", "server"),
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=200 / 60,  # Support API: 200 requests a minute on the smallest plan (Zendesk "Rate limits")
    interpret=interpret,
)
