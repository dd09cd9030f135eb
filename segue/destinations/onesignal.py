"""OneSignal: users, their email and SMS subscriptions, and custom events (User Model API).

identify creates the user under their External ID (the userId) with Email and SMS
subscriptions (POST /apps/{app_id}/users; for a user who exists this adds the subscriptions),
then updates their properties: tags from the flat traits, language, time zone, location
(PATCH /apps/{app_id}/users/by/external_id/{id}). track records a custom event of the user
(POST /apps/{app_id}/custom_events), which takes a list, so events are batched. Auth is the
app's REST API key: `Authorization: Key <key>`.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations._messaging import e164, email_of, phone_of, scalars
from segue.destinations.common import (
    encode_json,
    error_text,
    iso_time,
    json_or_none,
    json_request,
    listed_errors,
    method_presets,
    number,
    obj,
    require_event_name,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://api.onesignal.com/apps"
BATCH_SIZE = 100  # events per custom_events request: no maximum is documented, so a conservative one
MAX_EVENT_NAME = 128  # characters
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
RESERVED_TRAITS = ("email", "phone")


class Settings(DestinationSettings):
    app_id: str = Field(title="App ID", description="The OneSignal app's ID (Settings > Keys & IDs).")
    api_key: SecretStr = Field(title="REST API Key", description="An App API key of the app.")


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Key {settings.api_key.get_secret_value()}"}


def _app(settings: Settings) -> str:
    return f"{API}/{quote(settings.app_id, safe='')}"


def tags(traits: dict) -> dict:
    """Flat traits as OneSignal tags (string values), reserved identifiers left out."""
    return {key: value if isinstance(value, str) else encode_json(value).decode()
            for key, value in scalars(traits, RESERVED_TRAITS).items()}


def properties(event: dict) -> dict:
    """The user properties: tags, language, time zone, country code, location, IP."""
    country = (text(event, "context.location.country") or "").upper()
    locale = text(event, "context.locale")
    values = {
        "tags": tags(obj(event, "traits")) or None, "language": locale.split("-")[0].lower() if locale else None,
        "timezone_id": text(event, "context.timezone"), "country": country if COUNTRY_CODE.fullmatch(country) else None,
        "lat": number(event, "context.location.latitude"), "long": number(event, "context.location.longitude"),
        "ip": text(event, "context.ip"),
    }
    return {key: value for key, value in values.items() if value is not None}


def subscriptions(event: dict) -> list[dict]:
    """Email and SMS subscriptions from the email and phone traits."""
    email, phone = email_of(event), phone_of(event)
    found = [{"type": "Email", "token": email}] if email else []
    return found + ([{"type": "SMS", "token": e164(phone)}] if phone else [])


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create the user with their subscriptions, then update their properties."""
    user_id = text(event, "userId")
    if user_id is None:
        return []  # users are addressed by External ID
    create = {"identity": {"external_id": user_id}}
    found_subscriptions = subscriptions(event)
    if found_subscriptions:
        create["subscriptions"] = found_subscriptions
    requests = [json_request(f"{_app(settings)}/users", create, _headers(settings))]
    found = properties(event)
    if found:
        url = f"{_app(settings)}/users/by/external_id/{quote(user_id, safe='')}"
        requests.append(json_request(url, {"properties": found}, _headers(settings), "PATCH"))
    return requests


def custom_event(event: dict) -> dict | None:
    """The custom event of a track call (None without a userId); messageId is its idempotency key."""
    name, user_id = require_event_name(event), text(event, "userId")
    if user_id is None:
        return None  # custom events need the user's External ID
    item = {"name": name[:MAX_EVENT_NAME], "external_id": user_id, "timestamp": iso_time(event),
            "idempotency_key": text(event, "messageId"), "properties": obj(event, "properties")}
    return {key: value for key, value in item.items() if value is not None}


def send_events(events: list[dict], settings: Settings) -> list[Request]:
    """One custom_events request carrying `events` (none: nothing)."""
    url = f"{_app(settings)}/custom_events"
    return [json_request(url, {"events": events}, _headers(settings))] if events else []


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a custom event of the user."""
    item = custom_event(event)
    return send_events([item] if item else [], settings)


def batch(events: list, settings: Settings) -> list[Request]:
    """Many events: track calls in one custom_events request, identify calls one by one."""
    items = [custom_event(event) for event in events if event.get("type") == "track"]
    others = [request for event in events if event.get("type") == "identify" for request in identify(event, settings)]
    return send_events([item for item in items if item], settings) + others


def interpret(status: int, body: bytes) -> str | None:
    """OneSignal's `{"errors": [...]}` (strings or `{"code", "title"}` objects), else the text."""
    parsed = json_or_none(body)
    found = listed_errors(parsed, _describe)
    if found is not None:
        return found
    return error_text(body) if parsed is None else None


def _describe(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    inner = error.get("error") if isinstance(error.get("error"), dict) else error
    return ": ".join(str(inner[key]) for key in ("code", "title") if inner.get(key)) or str(error)


METHODS = ("track", "identify")

DESTINATION = Destination(
    slug="onesignal",
    name="OneSignal",
    categories=("SMS & Push Notifications",),
    description=(
        "Push, email, SMS and in-app messaging. Identify creates users under your user id with "
        "their email and SMS subscriptions and keeps their tags, language and time zone current; "
        "track records custom events that start or advance Journeys."
    ),
    docs_url="https://documentation.onesignal.com/reference/create-user",
    settings=Settings,
    translations={"track": track, "identify": identify},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    batch=batch,
    batch_size=BATCH_SIZE,
    rate_limit=0.0,  # no per-account limit documented for the user and custom events endpoints
    interpret=interpret,
)
