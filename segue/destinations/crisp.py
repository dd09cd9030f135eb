"""Crisp: people profiles, people data and people events through the REST API v1.

People are addressed by email, which Crisp accepts wherever a `people_id` goes. identify
updates the person's profile card (PATCH /v1/website/{website_id}/people/profile/{email}) and
their custom data (PATCH .../people/data/{email}); track adds an event to their timeline
(POST .../people/events/{email}). Auth is HTTP Basic with a plugin token's identifier and key,
plus the `X-Crisp-Tier: plugin` header.

Crisp has no create-or-update call: adding a profile that exists answers a conflict, updating
one that does not exist answers not found. identify updates, because the people who matter to
a chat team are already known to Crisp (the chatbox creates a profile when a visitor gives
their email); an update for an unknown email fails visibly in the delivery log.

Device mode runs the Crisp chatbox on the website instead (`device/crisp.js`, website ID only:
the plugin token never reaches browsers): `window.CRISP_WEBSITE_ID` and
`https://client.crisp.chat/l.js`, then identify pushes `["set", "user:email", [email]]`,
`user:nickname`, `user:phone`, `user:avatar`, `user:company`, `session:segments` and the other flat
traits (and the userId as `user_id`) as `["set", "session:data", [[[key, value], ...]]]`, and
track pushes `["set", "session:event", [[[<event name>, <flat properties>, <color>]]]]`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations._messaging import email_of, scalars
from segue.destinations.common import (
    basic_auth,
    compact,
    error_text,
    full_name,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    text,
)
from segue.destinations.contract import Destination, DestinationSettings, Device, Request

API = "https://api.crisp.chat/v1"
PROFILE_TRAITS = ("email", "name", "firstName", "first_name", "lastName", "last_name", "phone", "avatar",
                  "description", "website", "title", "gender", "company", "address", "segments")
Color = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "grey", "black"]


class Settings(DestinationSettings):
    website_id: str = Field(title="Website ID", description="The Crisp website to write people to.")
    identifier: str = Field(description="The plugin token identifier (Marketplace > plugin > Tokens).")
    key: SecretStr = Field(description="The plugin token key.")
    event_color: Color = Field("blue", description="The color Crisp shows track events in.")


def _url(settings: Settings, route: str, email: str) -> str:
    return f"{API}/website/{quote(settings.website_id, safe='')}/people/{route}/{quote(email, safe='@')}"


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": basic_auth(settings.identifier, settings.key.get_secret_value()),
            "X-Crisp-Tier": "plugin"}


def _address(traits: dict) -> str | None:
    address = obj(traits, "address")
    parts = [text(address, key) for key in ("street", "postalCode", "city", "state", "country")]
    return ", ".join(part for part in parts if part) or text(traits, "address")


def person(traits: dict) -> dict:
    """The profile card's `person` object from the reserved traits."""
    company = obj(traits, "company")
    employment = compact({"name": text(company, "name"), "title": text(traits, "title")})
    return compact({
        "nickname": full_name(traits), "phone": text(traits, "phone"), "avatar": text(traits, "avatar"),
        "gender": text(traits, "gender"), "description": text(traits, "description"),
        "website": text(traits, "website"), "address": _address(traits), "employment": employment or None,
    })


def _segments(traits: dict) -> list | None:
    segments = traits.get("segments")
    if not isinstance(segments, list):
        return None
    return [segment for segment in segments if isinstance(segment, str) and segment] or None


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: update the profile card, then the custom data (other flat traits)."""
    traits, email = obj(event, "traits"), email_of(event)
    if email is None:
        return []  # Crisp addresses people by email
    card = compact({"person": person(traits) or None, "segments": _segments(traits),
                    "company": compact({"name": text(obj(traits, "company"), "name")}) or None})
    requests = [json_request(_url(settings, "profile", email), card, _headers(settings), "PATCH")] if card else []
    data = scalars(traits, PROFILE_TRAITS)
    if data:
        requests.append(json_request(_url(settings, "data", email), {"data": data}, _headers(settings), "PATCH"))
    return requests


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a people event named after the Segment event, with its flat properties as data."""
    name, email = require_event_name(event), email_of(event)
    if email is None:
        return []  # Crisp addresses people by email
    body = compact({"text": name, "data": scalars(obj(event, "properties")) or None, "color": settings.event_color})
    return [json_request(_url(settings, "events", email), body, _headers(settings))]


def interpret(status: int, body: bytes) -> str | None:
    """Crisp's `{"error": true, "reason": "people_not_found", "data": {...}}`, else the text."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and parsed.get("reason"):
        message = text(obj(parsed, "data"), "message")
        return f"{parsed['reason']}: {message}" if message else str(parsed["reason"])
    return error_text(body)


METHODS = ("track", "identify")
DEVICE = Device(plugin="crisp.js", settings=("website_id", "event_color"), methods=("track", "identify"))

DESTINATION = Destination(
    slug="crisp",
    name="Crisp",
    categories=("Livechat",),
    description=(
        "Live chat, shared inbox and chatbot. Identify fills in the contact card of people your "
        "team chats with (name, phone, company, segments, custom data); track adds what they did "
        "to their profile timeline so operators have the context of each conversation."
    ),
    docs_url="https://docs.crisp.chat/references/rest-api/v1/",
    settings=Settings,
    translations={"track": track, "identify": identify},
    modes=("cloud", "device"),
    platforms=("browser", "mobile", "server"),
    device=DEVICE,
    presets=method_presets(METHODS),
    interpret=interpret,
)
