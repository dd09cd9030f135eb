"""Pipedrive: persons, organizations and activities through the REST API v2.

identify adds a person (POST /api/v2/persons) with name, emails and phones; group adds an
organization (POST /api/v2/organizations); track adds a done activity (POST /api/v2/activities)
whose subject is the event name. Pipedrive has no upsert and finding an existing person is a
search (I/O a translation cannot do), so each identify adds a person: send identify once per
person (e.g. on sign-up) and merge duplicates in Pipedrive. Auth: the Bearer access token from
"Log in to Pipedrive" (OAuth 2; the API host is the token response's `api_domain`), or an API
token in the `x-api-token` header.
"""

from __future__ import annotations

import datetime

from pydantic import Field, SecretStr

from segue.destinations.common import (
    bearer,
    compact,
    error_text,
    event_ms,
    full_name,
    json_or_none,
    json_request,
    method_presets,
    not_connected,
    obj,
    require_event_name,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, OAuth, Request, oauth_settings
from segue.destinations.settings import HttpUrlText
from segue.errors import InvalidMessage

DEFAULT_DOMAIN = "https://api.pipedrive.com"


class Settings(oauth_settings("Pipedrive")):
    api_domain: HttpUrlText | None = Field(
        None, title="API Domain", description="Your company's API host (https://<company>.pipedrive.com), set by Log in to Pipedrive.",
    )
    api_token: SecretStr | None = Field(
        None, title="API Token", description="Instead of logging in: a personal API token (Settings > Personal preferences > API).",
    )
    activity_type: str = Field("task", title="Activity Type", description="The activity type key track calls are added as.")
    custom_fields: dict[str, str] = Field(
        default_factory=dict, title="Custom Fields",
        description="Trait name -> Pipedrive custom field key (the 40-character hash) for identify.",
    )


def _base_and_headers(settings: Settings) -> tuple[str, dict[str, str]]:
    domain = (settings.api_domain or DEFAULT_DOMAIN).rstrip("/")
    if settings.access_token is not None:
        return domain, bearer(settings.access_token)
    if settings.api_token is not None:
        return domain, {"x-api-token": settings.api_token.get_secret_value()}
    raise not_connected("Pipedrive")


def _post(settings: Settings, path: str, body: dict) -> Request:
    domain, headers = _base_and_headers(settings)
    return json_request(f"{domain}/api/v2/{path}", body, headers)


def _labelled(value: str | None) -> list[dict] | None:
    return [{"value": value, "primary": True, "label": "work"}] if value else None


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: add a person named after the traits (else the email); no name or email: not sent."""
    traits = traits_of(event)
    email = text(traits, "email")
    name = text(traits, "name") or full_name(traits) or email  # a numeric name too
    if name is None:
        return []
    custom = {key: traits[trait_name] for trait_name, key in settings.custom_fields.items() if traits.get(trait_name) is not None}
    body = compact({
        "name": name, "emails": _labelled(email), "phones": _labelled(text(traits, "phone")),
        "custom_fields": custom or None,
    })
    return [_post(settings, "persons", body)]


def group(event: dict, settings: Settings) -> list[Request]:
    """group: add an organization named after the group's `name` trait (else the groupId)."""
    traits = obj(event, "traits")
    name = text(traits, "name") or text(event, "groupId")
    if name is None:
        raise InvalidMessage("group needs a groupId or a name trait", code="missing_field")
    address = text(traits, "address")  # a one-line address; structured ones need field keys
    return [_post(settings, "organizations", compact({"name": name, "address": address and {"value": address}}))]


def _due(event: dict) -> dict:
    ms = event_ms(event)
    if ms is None:
        return {}
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return {"due_date": moment.strftime("%Y-%m-%d"), "due_time": moment.strftime("%H:%M")}


def _note(event: dict) -> str | None:
    """The event's scalar properties as `key: value` lines (HTML line breaks, as Pipedrive notes take)."""
    lines = [f"{key}: {value}" for key, value in obj(event, "properties").items() if isinstance(value, (str, int, float, bool))]
    who = text(traits_of(event), "email") or text(event, "userId")
    return "<br>".join(([f"by: {who}"] if who else []) + lines) or None


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a done activity (type `activity_type`) whose subject is the event name, due at the event time."""
    name = require_event_name(event)
    body = compact({"subject": name, "type": settings.activity_type, "done": True, **_due(event), "note": _note(event)})
    return [_post(settings, "activities", body)]


def interpret(status: int, body: bytes) -> str | None:
    """Pipedrive's `{"success": false, "error": ..., "error_info": ...}`, else the plain body."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        info = parsed.get("error_info")
        return f"{parsed['error']} ({info})" if isinstance(info, str) and info else parsed["error"]
    return error_text(body)


METHODS = ("track", "identify", "group")

DESTINATION = Destination(
    slug="pipedrive",
    name="Pipedrive",
    categories=("CRM",),
    description=(
        "Sales pipeline CRM. Identify adds people with their name, email and phone; group adds "
        "organizations; track logs what a person did as a done activity. Pipedrive has no upsert, "
        "so send identify once per person. Connect with Log in to Pipedrive or an API token."
    ),
    docs_url="https://developers.pipedrive.com/docs/api/v1/Persons",
    settings=Settings,
    translations={"track": track, "identify": identify, "group": group},
    platforms=("browser", "mobile", "server"),
    replay=True,  # activities take any due date
    presets=method_presets(METHODS),
    interpret=interpret,
    # Burst limits are per 2-second window and grow with the plan; the lowest documented one
    # is about 20 requests per 2 s for an API token (conservative reading of the rate limit page).
    rate_limit=10.0,
    oauth=OAuth(
        authorize_url="https://oauth.pipedrive.com/oauth/authorize",
        token_url="https://oauth.pipedrive.com/oauth/token",
        scopes=(),  # Pipedrive grants the scopes chosen in the app's settings, not asked in the URL
    ),
)
